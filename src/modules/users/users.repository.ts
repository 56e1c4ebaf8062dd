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

/** The counters after one recorded failure: `lockedNow` when this failure set the lock. */
export interface FailedAttempt {
  failedLoginAttempts: number;
  lockedUntil: Date | null;
  lockedNow: boolean;
}

/**
 * The recorded failures a reservation starts from ($2 = max): 0 after a lock that has ended, else the count,
 * at most max - 1 (a count left over from a higher MAX_LOGIN_ATTEMPTS).
 */
const FAILURES_AT_RESERVATION = `(CASE WHEN locked_until IS NULL THEN LEAST(failed_login_attempts, $2::int - 1) ELSE 0 END)`;

/** The live leases (expiring after `now`) without one occurrence of `lease` (placeholders of the statement). */
const leasesWithout = (lease: string, now: string) =>
  `ARRAY(SELECT l FROM unnest(login_attempt_leases) WITH ORDINALITY AS x (l, i)
         WHERE l > ${now}::timestamptz AND i IS DISTINCT FROM array_position(login_attempt_leases, ${lease}::timestamptz)
         ORDER BY i)`;

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
   * Reserves one sign-in attempt BEFORE the password or code is checked, in one atomic UPDATE: a lease (one
   * expiry per attempt being checked, `login_attempt_leases`) is added while recorded failures + live leases
   * < `max`, so however many requests race, at most `max` credentials are checked before the lock. Nothing is
   * reserved while the account is locked (`lockedUntil`: when the lock ends) or while every slot is taken by
   * attempts still in flight (neither). Expired leases (a process that died mid-check) no longer count and are
   * pruned here. A lock that has ended restarts the count; a count left at or above a lowered
   * MAX_LOGIN_ATTEMPTS counts as max - 1 (one more check, which locks if wrong) instead of refusing for ever
   * with no lock to expire. `now` is the app's Clock, never the database's.
   *
   * The lock is read in the same statement, from its snapshot: a lock committed while this one waited for the
   * row shows up as "busy", and the caller's next try sees it.
   */
  async reserveAttempt(
    userId: string,
    max: number,
    now: Date,
    lease: Date,
    m?: EntityManager,
  ): Promise<{ reserved: boolean; lockedUntil: Date | null }> {
    const row = oneRow(
      await queryRows<{ reserved: boolean; locked_until: Date | null }>(
        this.manager(m),
        `WITH reservation AS (
           UPDATE users SET
             failed_login_attempts = ${FAILURES_AT_RESERVATION},
             locked_until = NULL,
             login_attempt_leases = ARRAY(SELECT l FROM unnest(login_attempt_leases) AS l WHERE l > $3::timestamptz)
               || $4::timestamptz
           WHERE id = $1
             AND (locked_until IS NULL OR locked_until <= $3::timestamptz)
             AND ${FAILURES_AT_RESERVATION}
               + (SELECT count(*) FROM unnest(login_attempt_leases) AS l WHERE l > $3::timestamptz) < $2::int
           RETURNING id)
         SELECT EXISTS (SELECT 1 FROM reservation) AS reserved,
           (SELECT locked_until FROM users WHERE id = $1 AND locked_until > $3::timestamptz) AS locked_until`,
        [userId, max, now, lease],
      ),
    );
    return { reserved: row.reserved, lockedUntil: row.reserved ? null : row.locked_until };
  }

  /**
   * A reserved attempt was wrong: its lease (`lease`, as reserved) becomes a recorded failure, and the failure
   * that reaches `max` locks the account until `lockUntil` (`lockedNow`: exactly one per lock).
   */
  async recordFailedAttempt(
    userId: string,
    max: number,
    lease: Date,
    now: Date,
    lockUntil: Date,
    m?: EntityManager,
  ): Promise<FailedAttempt> {
    const [row] = await queryRows<{ failed_login_attempts: number; locked_until: Date | null }>(
      this.manager(m),
      `UPDATE users SET
           failed_login_attempts = failed_login_attempts + 1,
           locked_until = CASE
             WHEN locked_until > $4::timestamptz THEN locked_until
             WHEN failed_login_attempts + 1 >= $2::int THEN $5::timestamptz
             ELSE NULL END,
           login_attempt_leases = ${leasesWithout('$3', '$4')}
         WHERE id = $1
         RETURNING failed_login_attempts, locked_until`,
      [userId, max, lease, now, lockUntil],
    );
    // The account was deleted while its answer was checked: nothing to count.
    if (!row) return { failedLoginAttempts: 0, lockedUntil: null, lockedNow: false };
    const lockedNow = row.locked_until?.getTime() === lockUntil.getTime();
    return { failedLoginAttempts: row.failed_login_attempts, lockedUntil: row.locked_until, lockedNow };
  }

  /**
   * A reserved attempt was right: its lease is dropped and the count and lock cleared, unless the account is
   * locked now (only possible when this attempt outlived its lease): then nothing is cleared and the lock's end
   * is returned (the caller answers 423). Null when cleared.
   */
  async clearFailedAttempts(userId: string, lease: Date, now: Date, m?: EntityManager): Promise<Date | null> {
    const [row] = await queryRows<{ locked_until: Date | null }>(
      this.manager(m),
      `UPDATE users SET
         failed_login_attempts = CASE WHEN locked_until > $3::timestamptz THEN failed_login_attempts ELSE 0 END,
         locked_until = CASE WHEN locked_until > $3::timestamptz THEN locked_until ELSE NULL END,
         login_attempt_leases = ${leasesWithout('$2', '$3')}
       WHERE id = $1
       RETURNING locked_until`,
      [userId, lease, now],
    );
    return row?.locked_until ?? null;
  }

  /** Gives a reservation back without counting it (an attempt that was neither right nor wrong). */
  async releaseAttempt(userId: string, lease: Date, now: Date, m?: EntityManager): Promise<void> {
    await queryRows(
      this.manager(m),
      `UPDATE users SET login_attempt_leases = ${leasesWithout('$2', '$3')} WHERE id = $1`,
      [userId, lease, now],
    );
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
