import { Column, Entity } from 'typeorm';
import { CrmRecord } from '../common/crm-record.entity';

export const LEAD_TYPES = ['buyer', 'seller', 'investor', 'renter'] as const;
export type LeadType = (typeof LEAD_TYPES)[number];
export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'converted', 'lost'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];
/** `converted` is reached only through POST /v1/leads/:id/convert. */
export const SETTABLE_LEAD_STATUSES = LEAD_STATUSES.filter((s) => s !== 'converted');

@Entity('leads')
export class Lead extends CrmRecord {
  @Column({ type: 'varchar', length: 100 })
  firstName: string;

  @Column({ type: 'varchar', length: 100 })
  lastName: string;

  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  @Column({ type: 'varchar', length: 40, nullable: true })
  phone: string | null;

  @Column({ type: 'varchar', length: 10, nullable: true })
  leadType: LeadType | null;

  @Column({ type: 'varchar', length: 10, default: 'new' })
  leadStatus: LeadStatus;

  @Column({ type: 'varchar', length: 100, nullable: true })
  source: string | null;

  @Column({ type: 'text', nullable: true })
  notes: string | null;

  /** The client created from this lead. */
  @Column({ type: 'uuid', nullable: true })
  convertedClientId: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  convertedAt: Date | null;
}
