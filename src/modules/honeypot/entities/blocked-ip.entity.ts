import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** An IP refused on every request until `blockedUntil` (fed by the backdoor honeypot; shared by instances). */
@Entity('ip_blocklist')
export class BlockedIp {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  ip: string;

  @Column({ type: 'varchar', length: 200 })
  reason: string;

  @Column({ type: 'timestamptz' })
  blockedUntil: Date;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
