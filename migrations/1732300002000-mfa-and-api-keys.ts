import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * TOTP enrolment (secrets sealed with AES-256-GCM, the last accepted time step to refuse replays),
 * hashed one-time backup codes, and API keys (sha256 of the key, found by an indexed prefix).
 */
export class MfaAndApiKeys1732300002000 implements MigrationInterface {
  name = 'MfaAndApiKeys1732300002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE user_mfa (
        user_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        secret_sealed text,
        pending_secret_sealed text,
        enabled_at timestamptz,
        last_used_step bigint,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE mfa_backup_codes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        code_hash char(64) NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT mfa_backup_codes_unique UNIQUE (user_id, code_hash)
      )`);

    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        name varchar(100) NOT NULL,
        prefix varchar(16) NOT NULL,
        key_hash char(64) NOT NULL,
        scopes text[] NOT NULL CHECK (cardinality(scopes) > 0),
        allowed_ips text[] NOT NULL DEFAULT '{}',
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        last_used_at timestamptz,
        expiry_warned_at timestamptz,
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT api_keys_prefix_unique UNIQUE (prefix)
      )`);
    await q.query(`CREATE INDEX api_keys_team_idx ON api_keys (team_id, created_at DESC)`);
    await q.query(
      `CREATE INDEX api_keys_expiry_idx ON api_keys (expires_at) WHERE revoked_at IS NULL AND expiry_warned_at IS NULL`,
    );
    await q.query(`ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY`);
    await q.query(`
      CREATE POLICY api_keys_team_isolation ON api_keys TO app_tenant
      USING (team_id = current_setting('app.team_id', true)::uuid)
      WITH CHECK (team_id = current_setting('app.team_id', true)::uuid)`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON api_keys TO app_tenant`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE mfa_backup_codes`);
    await q.query(`DROP TABLE user_mfa`);
  }
}
