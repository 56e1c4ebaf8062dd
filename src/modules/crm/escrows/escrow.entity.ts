import { Column, Entity } from 'typeorm';
import { CrmRecord } from '../common/crm-record.entity';

export const ESCROW_STATUSES = ['open', 'pending', 'closed', 'cancelled'] as const;
export type EscrowStatus = (typeof ESCROW_STATUSES)[number];

@Entity('escrows')
export class Escrow extends CrmRecord {
  @Column({ type: 'varchar', length: 500 })
  propertyAddress: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  escrowNumber: string | null;

  /** numeric(14,2), returned as a decimal string. */
  @Column({ type: 'numeric', precision: 14, scale: 2, nullable: true })
  purchasePrice: string | null;

  @Column({ type: 'varchar', length: 10, default: 'open' })
  status: EscrowStatus;

  /** A calendar date (YYYY-MM-DD). */
  @Column({ type: 'date', nullable: true })
  openedAt: string | null;

  @Column({ type: 'date', nullable: true })
  closingDate: string | null;

  @Column({ type: 'uuid', nullable: true })
  clientId: string | null;

  @Column({ type: 'uuid', nullable: true })
  listingId: string | null;
}
