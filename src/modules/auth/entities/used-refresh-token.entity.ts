import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A refresh token that was rotated away; presenting it again is reuse. */
@Entity('used_refresh_tokens')
export class UsedRefreshToken {
  @PrimaryColumn({ type: 'char', length: 64 })
  tokenHash: string;

  @Column({ type: 'uuid' })
  sessionId: string;

  @Column({ type: 'uuid' })
  userId: string;

  @Column({ type: 'timestamptz' })
  retiredAt: Date;
}
