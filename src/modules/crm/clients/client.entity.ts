import { Column, Entity } from 'typeorm';
import { CrmRecord } from '../common/crm-record.entity';

export const CLIENT_TYPES = ['buyer', 'seller', 'both', 'investor', 'renter'] as const;
export type ClientType = (typeof CLIENT_TYPES)[number];
export const CLIENT_STATUSES = ['active', 'inactive', 'archived'] as const;
export type ClientStatus = (typeof CLIENT_STATUSES)[number];

@Entity('clients')
export class Client extends CrmRecord {
  @Column({ type: 'varchar', length: 100 })
  firstName: string;

  @Column({ type: 'varchar', length: 100 })
  lastName: string;

  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  @Column({ type: 'varchar', length: 40, nullable: true })
  phone: string | null;

  @Column({ type: 'varchar', length: 10, nullable: true })
  clientType: ClientType | null;

  @Column({ type: 'varchar', length: 10, default: 'active' })
  status: ClientStatus;

  @Column({ type: 'text', nullable: true })
  notes: string | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  address: string | null;

  /** The lead this client was converted from (set by POST /v1/leads/:id/convert only). */
  @Column({ type: 'uuid', nullable: true })
  leadId: string | null;
}
