import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * No unkeyed secret verifier survives: backup codes stored as plain sha256 (before keyed verifiers, commit
 * 7ded997) are voided, and their owners are told to make new ones.
 *
 * Which rows are plain sha256 cannot be told from the database: both kinds are 64 hex characters, and a keyed
 * verifier (HMAC under a key derived from DATA_ENCRYPTION_KEY) can only be recognised by recomputing it from the
 * code itself, which is not stored. So every backup code stored before this migration is voided (deleted), keyed
 * or not; codes issued from now on are keyed only, and the sign-in check no longer tries plain sha256.
 *
 * A migration cannot send mail. It records whom to tell: `backup_codes_voided_at` on the enrolment of each
 * user who still had an unused code. The MFA module's BackupCodeVoidNotices mails each of them once (at start-up
 * and every few minutes after), claiming the row with FOR UPDATE SKIP LOCKED so two instances never both mail
 * one user, and sets `backup_codes_notice_sent_at`.
 */
export class VoidUnkeyedBackupCodes1733400070000 implements MigrationInterface {
  name = 'VoidUnkeyedBackupCodes1733400070000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE user_mfa
        ADD COLUMN backup_codes_voided_at timestamptz NULL,
        ADD COLUMN backup_codes_notice_sent_at timestamptz NULL`);
    await q.query(`
      UPDATE user_mfa m SET backup_codes_voided_at = now()
       WHERE EXISTS (SELECT 1 FROM mfa_backup_codes b WHERE b.user_id = m.user_id AND b.used_at IS NULL)`);
    await q.query(`DELETE FROM mfa_backup_codes`);
    await q.query(`
      CREATE INDEX user_mfa_backup_code_notice_due_idx ON user_mfa (user_id)
       WHERE backup_codes_voided_at IS NOT NULL AND backup_codes_notice_sent_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The voided codes are gone for good; only the bookkeeping goes.
    await q.query(`DROP INDEX IF EXISTS user_mfa_backup_code_notice_due_idx`);
    await q.query(`
      ALTER TABLE user_mfa DROP COLUMN backup_codes_notice_sent_at, DROP COLUMN backup_codes_voided_at`);
  }
}
