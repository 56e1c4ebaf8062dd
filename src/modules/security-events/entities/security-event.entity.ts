import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { type SecurityEventType, type Severity } from '../../../common/security/security-event-sink';

export { SECURITY_EVENT_TYPES, SEVERITIES } from '../../../common/security/security-event-sink';
export type { SecurityEventType, Severity } from '../../../common/security/security-event-sink';

@Entity('security_events')
@Index(['createdAt'])
@Index(['eventType', 'createdAt'])
@Index(['teamId', 'createdAt'])
@Index(['userId'])
export class SecurityEvent {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 50 })
  eventType: SecurityEventType;

  @Column({ type: 'varchar', length: 10 })
  severity: Severity;

  /** Null for events before anyone is identified (honeypots, unknown emails, rate limits). */
  @Column({ type: 'uuid', nullable: true })
  teamId: string | null;

  @Column({ type: 'uuid', nullable: true })
  userId: string | null;

  @Column({ type: 'uuid', nullable: true })
  apiKeyId: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ipAddress: string | null;

  @Column({ type: 'text', nullable: true })
  userAgent: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
  details: Record<string, unknown>;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
