import { Column, Entity } from 'typeorm';
import { CrmRecord } from '../common/crm-record.entity';

export const LISTING_STATUSES = ['active', 'pending', 'sold', 'withdrawn'] as const;
export type ListingStatus = (typeof LISTING_STATUSES)[number];

@Entity('listings')
export class Listing extends CrmRecord {
  @Column({ type: 'varchar', length: 500 })
  address: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  city: string | null;

  @Column({ type: 'varchar', length: 50, nullable: true })
  state: string | null;

  @Column({ type: 'varchar', length: 20, nullable: true })
  zip: string | null;

  /** numeric(14,2), returned as a decimal string. */
  @Column({ type: 'numeric', precision: 14, scale: 2, nullable: true })
  price: string | null;

  @Column({ type: 'smallint', nullable: true })
  bedrooms: number | null;

  /** numeric(5,1) (2.5 baths), returned as a number. */
  @Column({ type: 'numeric', precision: 5, scale: 1, nullable: true })
  bathrooms: number | null;

  @Column({ type: 'integer', nullable: true })
  squareFeet: number | null;

  @Column({ type: 'varchar', length: 10, default: 'active' })
  status: ListingStatus;

  @Column({ type: 'varchar', length: 50, nullable: true })
  mlsNumber: string | null;
}
