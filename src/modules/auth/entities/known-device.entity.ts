import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A device (fingerprint) a user has signed in from; a new one triggers a notification. */
@Entity('known_devices')
export class KnownDevice {
  @PrimaryColumn({ type: 'uuid' })
  userId: string;

  @PrimaryColumn({ type: 'char', length: 64 })
  fingerprint: string;

  @Column({ type: 'varchar', length: 120, nullable: true })
  label: string | null;

  @Column({ type: 'timestamptz' })
  firstSeenAt: Date;

  @Column({ type: 'timestamptz' })
  lastSeenAt: Date;
}
