import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Role } from '../../../common/security/principal';

@Entity('users')
@Index(['teamId'])
export class User {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  teamId: string;

  /** citext: unique regardless of case. */
  @Column({ type: 'citext', unique: true })
  email: string;

  @Column({ type: 'text', select: false })
  passwordHash: string;

  @Column({ type: 'varchar', length: 100 })
  firstName: string;

  @Column({ type: 'varchar', length: 100 })
  lastName: string;

  @Column({ type: 'varchar', length: 10 })
  role: Role;

  @Column({ type: 'int', default: 0 })
  failedLoginAttempts: number;

  @Column({ type: 'timestamptz', nullable: true })
  lockedUntil: Date | null;

  /** One expiry per sign-in attempt being checked right now (the lockout's reservations; UsersRepository). */
  @Column({ type: 'timestamptz', array: true, default: () => "'{}'", select: false })
  loginAttemptLeases: Date[];

  @Column({ type: 'boolean', default: false })
  disabled: boolean;

  @Column({ type: 'boolean', default: false })
  mfaEnabled: boolean;

  @Column({ type: 'timestamptz', nullable: true })
  passwordChangedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastLoginAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}

/** The public shape of a user: never the hash, the counters or the lock. */
export function publicUser(u: User) {
  return {
    id: u.id,
    teamId: u.teamId,
    email: u.email,
    firstName: u.firstName,
    lastName: u.lastName,
    role: u.role,
    disabled: u.disabled,
    mfaEnabled: u.mfaEnabled,
    lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
    createdAt: u.createdAt.toISOString(),
  };
}

export type PublicUser = ReturnType<typeof publicUser>;
