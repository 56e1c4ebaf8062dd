import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The lockout tells attempts still being checked apart from recorded failures (issue 28: right-password
 * sign-ins that overlapped were answered 423 although nothing had failed).
 *
 * `login_attempt_leases` holds one expiry per attempt whose password or code is being checked right now (a
 * reservation, UsersRepository.reserveAttempt); `failed_login_attempts` now counts only answers found wrong.
 * A reservation is granted only while failures + live leases < MAX_LOGIN_ATTEMPTS, so at most that many
 * credentials are ever checked before the lock; a failure turns its lease into a failure, a success or an
 * undecided answer drops it. The expiry is there so that a process that dies mid-check cannot hold a slot for
 * ever: an expired lease no longer counts and the next statement that touches the row prunes it.
 */
export class LoginAttemptLeases1733400005400 implements MigrationInterface {
  name = 'LoginAttemptLeases1733400005400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN login_attempt_leases timestamptz[] NOT NULL DEFAULT '{}'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN login_attempt_leases`);
  }
}
