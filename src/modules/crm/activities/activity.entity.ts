import { Column, Entity } from 'typeorm';
import { CrmRecord } from '../common/crm-record.entity';

export const ACTIVITY_TYPES = ['note', 'call', 'email', 'text', 'meeting', 'showing'] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

/** Something that happened with a client, lead, listing or escrow (see migrations/1733300001000-activities-tasks.ts). */
@Entity('activities')
export class Activity extends CrmRecord {
  @Column({ type: 'varchar', length: 10 })
  type: ActivityType;

  @Column({ type: 'varchar', length: 200, nullable: true })
  subject: string | null;

  @Column({ type: 'text', nullable: true })
  body: string | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  occurredAt: Date;

  @Column({ type: 'integer', nullable: true })
  durationMinutes: number | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  outcome: string | null;

  @Column({ type: 'uuid', nullable: true })
  clientId: string | null;

  @Column({ type: 'uuid', nullable: true })
  leadId: string | null;

  @Column({ type: 'uuid', nullable: true })
  listingId: string | null;

  @Column({ type: 'uuid', nullable: true })
  escrowId: string | null;
}
