import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A user's TOTP enrolment: secrets sealed with AES-256-GCM, never stored in clear. */
@Entity('user_mfa')
export class UserMfa {
  @PrimaryColumn({ type: 'uuid' })
  userId: string;

  @Column({ type: 'text', nullable: true })
  secretSealed: string | null;

  /** Set up but not yet confirmed with a code. */
  @Column({ type: 'text', nullable: true })
  pendingSecretSealed: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  enabledAt: Date | null;

  /** The last 30-second step whose code was accepted: a code is good once. */
  @Column({ type: 'bigint', nullable: true })
  lastUsedStep: string | null;

  @Column({ type: 'timestamptz' })
  updatedAt: Date;

  /** Set by migrations/1733400070000 when it voided this user's unkeyed backup codes: the owner must be told. */
  @Column({ type: 'timestamptz', nullable: true })
  backupCodesVoidedAt: Date | null;

  /** When BackupCodeVoidNotices mailed the owner (once). */
  @Column({ type: 'timestamptz', nullable: true })
  backupCodesNoticeSentAt: Date | null;
}
