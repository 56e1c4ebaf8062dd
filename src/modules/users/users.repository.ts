import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { type Role } from '../../common/security/principal';
import { oneRow, queryRows } from '../../database/query-rows';
import { User } from './entities/user.entity';

/** What sign-in needs of an account, as stored (snake_case, straight from SQL). */
export interface UserCredentials {
  id: string;
  team_id: string;
  email: string;
  password_hash: string;
  role: Role;
  disabled: boolean;
  mfa_enabled: boolean;
  locked_until: Date | null;
}

/** The counters after one reserved attempt: `locked_until` is set when this reservation reached the limit. */
export interface ReservedAttempt {
  failed_login_attempts: number;
  locked_until: Date | null;
}

/** The counters after one failed attempt, and the lock as it was before it. */
export interface FailedAttemptResult {
  failed_login_attempts: number;
  locked_until: Date | null;
  previous_lock: Date | null;
}

/** The fields of a user an admin creates. */
export interface NewTeamMember {
  teamId: string;
  email: string;
  passwordHash: string;
  firstName: string;
  lastName: string;
  role: Role;
}

/**
 * The one owner of the `users` table: every INSERT, UPDATE and DELETE of a user goes through here (a unit spec
 * checks that no other file writes it). Each method takes the caller's EntityManager, so it joins the caller's
 * transaction; without one it runs on its own.
 */
@Injectable()
export class UsersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private manager(m?: EntityManager): EntityManager {
    return m ?? this.dataSource.manager;
  }

  // ---- Reads ----

  findById(id: string, m?: EntityManager): Promise<User | null> {
    return this.manager(m).getRepository(User).findOneBy({ id });
  }

  findByIdOrFail(id: string, m?: EntityManager): Promise<User> {
    return this.manager(m).getRepository(User).findOneByOrFail({ id });
  }

  findInTeam(id: string, teamId: string, m?: EntityManager): Promise<User | null> {
    return this.manager(m).getRepository(User).findOne({ where: { id, teamId } });
  }

  /** The team's users, oldest first. */
  listTeam(teamId: string, m?: EntityManager): Promise<User[]> {
    return this.manager(m)
      .getRepository(User)
      .find({ where: { teamId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** The user in this team, row-locked (FOR UPDATE) for the rest of the caller's transaction; null if none. */
  lockInTeam(id: string, teamId: string, m: EntityManager): Promise<User | null> {
    return m.getRepository(User).findOne({ where: { id, teamId }, lock: { mode: 'pessimistic_write' } });
  }

  /** Whether an account already uses this email (citext: regardless of case). */
  async emailTaken(email: string, m?: EntityManager): Promise<boolean> {
    const rows = await queryRows(this.manager(m), `SELECT 1 FROM users WHERE email = $1`, [email]);
    return rows.length > 0;
  }

  async findCredentialsByEmail(email: string, m?: EntityManager): Promise<UserCredentials | undefined> {
    const [row] = await queryRows<UserCredentials>(
      this.manager(m),
      `SELECT id, team_id, email, password_hash, role, disabled, mfa_enabled, locked_until FROM users WHERE email = $1`,
      [email],
    );
    return row;
  }

  async findPasswordHash(
    userId: string,
    m?: EntityManager,
  ): Promise<{ password_hash: string; email: string; team_id: string } | undefined> {
    const [row] = await queryRows<{ password_hash: string; email: string; team_id: string }>(
      this.manager(m),
      `SELECT password_hash, email, team_id FROM users WHERE id = $1`,
      [userId],
    );
    return row;
  }

  async findMfaEnabled(userId: string, m?: EntityManager): Promise<{ mfa_enabled: boolean } | undefined> {
    const [row] = await queryRows<{ mfa_enabled: boolean }>(
      this.manager(m),
      `SELECT mfa_enabled FROM users WHERE id = $1`,
      [userId],
    );
    return row;
  }

  async findPasswordHashAndMfa(
    userId: string,
    m?: EntityManager,
  ): Promise<{ password_hash: string; mfa_enabled: boolean } | undefined> {
    const [row] = await queryRows<{ password_hash: string; mfa_enabled: boolean }>(
      this.manager(m),
      `SELECT password_hash, mfa_enabled FROM users WHERE id = $1`,
      [userId],
    );
    return row;
  }

  /** Enabled admins of the team other than this user. */
  async countOtherEnabledAdmins(teamId: string, exceptId: string, m?: EntityManager): Promise<number> {
    const row = oneRow(
      await queryRows<{ n: number }>(
        this.manager(m),
        `SELECT count(*)::int AS n FROM users WHERE team_id = $1 AND role = 'admin' AND NOT disabled AND id <> $2`,
        [teamId, exceptId],
      ),
    );
    return row.n;
  }

  // ---- Writes ----

  /** The first user of a newly registered team: an admin, password changed now. Returns the new id. */
  async insertRegisteredAdmin(
    input: { teamId: string; email: string; passwordHash: string; firstName: string; lastName: string },
    m?: EntityManager,
  ): Promise<string> {
    const [user] = await queryRows<{ id: string }>(
      this.manager(m),
      `INSERT INTO users (team_id, email, password_hash, first_name, last_name, role, password_changed_at)
         VALUES ($1, $2, $3, $4, $5, 'admin', now()) RETURNING id`,
      [input.teamId, input.email, input.passwordHash, input.firstName, input.lastName],
    );
    if (!user) throw new Error('user insert returned no row');
    return user.id;
  }

  /** A user an admin adds to their team, password changed now. Returns the new id. */
  async insertTeamMember(input: NewTeamMember, m?: EntityManager): Promise<string> {
    const repo = this.manager(m).getRepository(User);
    const saved = await repo.save(repo.create({ ...input, passwordChangedAt: new Date() }));
    return saved.id;
  }

  /**
   * Reserves one sign-in attempt BEFORE the password or code is checked, in one atomic UPDATE: the count goes up
   * by one (or restarts at 1 when an old lock expired), and the reservation that reaches `max` locks the account
   * until `lockUntil`. Refused (undefined) while locked or once `max` attempts are reserved, so however many
   * requests race, at most `max` credentials are ever checked before the lock. A reservation that turns out to be
   * a wrong credential is the counted failure; a right one is refunded (clearFailedAttempts / releaseAttempt).
   * No separate "count < max" test: reaching max always sets the lock in the same statement, so the lock test
   * alone refuses the rest, and a count left at or above a lowered MAX_LOGIN_ATTEMPTS locks at once instead of
   * refusing forever with no lock to expire.
   */
  async reserveAttempt(
    userId: string,
    max: number,
    lockUntil: Date,
    m?: EntityManager,
  ): Promise<ReservedAttempt | undefined> {
    const [row] = await queryRows<ReservedAttempt>(
      this.manager(m),
      `UPDATE users SET
         failed_login_attempts = CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_login_attempts + 1 END,
         locked_until = CASE
           WHEN (CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_login_attempts + 1 END) >= $2 THEN $3::timestamptz
           ELSE NULL END
       WHERE id = $1 AND (locked_until IS NULL OR locked_until <= now())
       RETURNING failed_login_attempts, locked_until`,
      [userId, max, lockUntil],
    );
    return row;
  }

  /**
   * Refunds a reservation whose credential was right: the count back to 0 and the lock cleared, unless the account
   * was locked meanwhile by another attempt (`ownLock` is the lock this caller's own reservation set, if any).
   * Returns false when the account is locked now (the caller answers 423).
   */
  async clearFailedAttempts(userId: string, ownLock: Date | null = null, m?: EntityManager): Promise<boolean> {
    const rows = await queryRows(
      this.manager(m),
      `UPDATE users SET failed_login_attempts = 0, locked_until = NULL
       WHERE id = $1 AND (locked_until IS NULL OR locked_until <= now() OR locked_until = $2::timestamptz)
       RETURNING id`,
      [userId, ownLock],
    );
    return rows.length > 0;
  }

  /** Gives one reservation back without resetting the count (an attempt that was neither right nor wrong). */
  async releaseAttempt(userId: string, ownLock: Date | null = null, m?: EntityManager): Promise<void> {
    await queryRows(
      this.manager(m),
      `UPDATE users SET failed_login_attempts = GREATEST(failed_login_attempts - 1, 0),
         locked_until = CASE WHEN locked_until = $2::timestamptz THEN NULL ELSE locked_until END
       WHERE id = $1`,
      [userId, ownLock],
    );
  }

  /** When the account's current lock ends; null when it is not locked now. */
  async lockedUntil(userId: string, m?: EntityManager): Promise<Date | null> {
    const [row] = await queryRows<{ locked_until: Date | null }>(
      this.manager(m),
      `SELECT locked_until FROM users WHERE id = $1 AND locked_until > now()`,
      [userId],
    );
    return row?.locked_until ?? null;
  }

  /** The time of a successful sign-in (the count was reset by clearFailedAttempts). */
  async recordLastLogin(userId: string, m?: EntityManager): Promise<void> {
    await queryRows(this.manager(m), `UPDATE users SET last_login_at = now() WHERE id = $1`, [userId]);
  }

  /** The same password, hashed again with the current parameters; nothing else changes. */
  async replacePasswordHash(userId: string, passwordHash: string, m?: EntityManager): Promise<void> {
    await queryRows(this.manager(m), `UPDATE users SET password_hash = $2 WHERE id = $1`, [userId, passwordHash]);
  }

  /** A new password (change or reset): the hash, the change time, and the failure count and lock cleared. */
  async setPassword(userId: string, passwordHash: string, m?: EntityManager): Promise<void> {
    await queryRows(
      this.manager(m),
      `UPDATE users SET password_hash = $2, password_changed_at = now(), failed_login_attempts = 0, locked_until = NULL WHERE id = $1`,
      [userId, passwordHash],
    );
  }

  async setMfaEnabled(userId: string, enabled: boolean, m?: EntityManager): Promise<void> {
    await queryRows(
      this.manager(m),
      enabled
        ? `UPDATE users SET mfa_enabled = true WHERE id = $1`
        : `UPDATE users SET mfa_enabled = false WHERE id = $1`,
      [userId],
    );
  }

  /** An admin's change of a team member's role and/or disabled flag. */
  async updateRoleAndDisabled(
    id: string,
    teamId: string,
    values: { role: Role; disabled: boolean },
    m?: EntityManager,
  ): Promise<void> {
    await this.manager(m).getRepository(User).update({ id, teamId }, { role: values.role, disabled: values.disabled });
  }

  /** Deletes the user of this team. */
  async remove(id: string, teamId: string, m?: EntityManager): Promise<void> {
    await this.manager(m).getRepository(User).delete({ id, teamId });
  }

  /** An admin's unlock: the failure count and any lock cleared, whoever set them (clearFailedAttempts respects a lock). */
  async unlock(id: string, teamId: string, m?: EntityManager): Promise<void> {
    await queryRows(
      this.manager(m),
      `UPDATE users SET failed_login_attempts = 0, locked_until = NULL WHERE id = $1 AND team_id = $2`,
      [id, teamId],
    );
  }
}
