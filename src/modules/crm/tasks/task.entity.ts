import { Column, Entity } from 'typeorm';
import { CrmRecord } from '../common/crm-record.entity';

export const TASK_STATUSES = ['open', 'done', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const TASK_PRIORITIES = ['low', 'normal', 'high'] as const;
export type TaskPriority = (typeof TASK_PRIORITIES)[number];

/**
 * A to-do with a due date and an assignee (see migrations/1733300001000-activities-tasks.ts). The reminder
 * job's bookkeeping column (reminded_for_due_at) is deliberately not mapped: it is not part of the API shape.
 */
@Entity('tasks')
export class Task extends CrmRecord {
  @Column({ type: 'varchar', length: 200 })
  title: string;

  @Column({ type: 'timestamptz', nullable: true })
  dueAt: Date | null;

  @Column({ type: 'varchar', length: 10, default: 'open' })
  status: TaskStatus;

  @Column({ type: 'varchar', length: 10, default: 'normal' })
  priority: TaskPriority;

  @Column({ type: 'uuid', nullable: true })
  clientId: string | null;

  @Column({ type: 'uuid', nullable: true })
  leadId: string | null;

  @Column({ type: 'uuid', nullable: true })
  listingId: string | null;

  @Column({ type: 'uuid', nullable: true })
  escrowId: string | null;

  @Column({ type: 'text', nullable: true })
  notes: string | null;

  /** Set by the database when the status becomes done, cleared when it leaves done. */
  @Column({ type: 'timestamptz', nullable: true })
  completedAt: Date | null;
}
