import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const SECURITY_EVENT_TYPES = [
  'login_success',
  'login_failed',
  'account_locked',
  'lockout_attempt_while_locked',
  'multiple_failed_logins',
  'token_refreshed',
  'token_theft_detected',
  'permission_denied',
  'insufficient_scope',
  'ip_not_allowed',
  'api_key_expired',
  'api_key_created',
  'api_key_revoked',
  'api_key_usage_spike',
  'mfa_enabled',
  'mfa_disabled',
  'password_changed',
  'password_reset',
  'password_reset_requested',
  'new_device_login',
  'device_mismatch',
  'session_revoked',
  'geo_anomaly_detected',
  'honeypot_triggered',
  'ip_blocked',
  'data_export',
  'data_export_large',
  'rate_limited',
  'logout',
  'account_unlocked',
  'mfa_reset',
  'mfa_failed',
  'webhook_created',
  'webhook_deactivated',
] as const;
export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

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
