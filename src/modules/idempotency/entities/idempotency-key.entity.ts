import { Column, Entity, PrimaryColumn } from 'typeorm';

export type IdempotencyCredentialKind = 'user' | 'api_key';
export type IdempotencyState = 'in_progress' | 'completed';

/** One Idempotency-Key of one credential in one team (migrations/1733300003000-idempotency.ts). */
@Entity('idempotency_keys')
export class IdempotencyKey {
  @PrimaryColumn({ type: 'uuid' })
  teamId: string;

  @PrimaryColumn({ type: 'varchar', length: 8 })
  credentialKind: IdempotencyCredentialKind;

  /** The user's or the API key's id. */
  @PrimaryColumn({ type: 'uuid' })
  credentialId: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  idempotencyKey: string;

  /** sha256 of method, routed path, params, query and the body's sha256. */
  @Column({ type: 'varchar', length: 128 })
  fingerprint: string;

  @Column({ type: 'uuid' })
  claimId: string;

  @Column({ type: 'varchar', length: 12, default: 'in_progress' })
  state: IdempotencyState;

  @Column({ type: 'smallint', nullable: true })
  statusCode: number | null;

  /** The response body as sent (the envelope), replayed verbatim. */
  @Column({ type: 'text', nullable: true })
  responseBody: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  contentType: string | null;

  /** ETag and Location of the answer, replayed with it. */
  @Column({ type: 'jsonb', nullable: true })
  responseHeaders: Record<string, string> | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  completedAt: Date | null;

  @Column({ type: 'timestamptz' })
  expiresAt: Date;
}
