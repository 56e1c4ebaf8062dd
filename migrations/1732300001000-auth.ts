import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Sessions (one row per refresh-token family), the hashes of every rotated-away refresh token (for reuse
 * detection), password history, single-use reset tokens and the devices each user has signed in from.
 * No raw token is stored anywhere: sha256 hashes only.
 */
export class Auth1732300001000 implements MigrationInterface {
  name = 'Auth1732300001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        token_hash char(64) NOT NULL,
        previous_token_hash char(64),
        rotated_at timestamptz,
        authenticated_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason varchar(40),
        ip varchar(64),
        user_agent text,
        device varchar(120),
        fingerprint char(64),
        CONSTRAINT sessions_token_hash_unique UNIQUE (token_hash)
      )`);
    await q.query(
      `CREATE INDEX sessions_previous_token_hash_idx ON sessions (previous_token_hash) WHERE previous_token_hash IS NOT NULL`,
    );
    await q.query(`CREATE INDEX sessions_user_live_idx ON sessions (user_id) WHERE revoked_at IS NULL`);
    await q.query(`CREATE INDEX sessions_team_idx ON sessions (team_id, created_at)`);

    await q.query(`
      CREATE TABLE used_refresh_tokens (
        token_hash char(64) PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        retired_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX used_refresh_tokens_session_idx ON used_refresh_tokens (session_id)`);

    await q.query(`
      CREATE TABLE password_history (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX password_history_user_idx ON password_history (user_id, created_at DESC)`);

    await q.query(`
      CREATE TABLE password_reset_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash char(64) NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        requested_ip varchar(64),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX password_reset_tokens_user_idx ON password_reset_tokens (user_id)`);

    await q.query(`
      CREATE TABLE known_devices (
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        fingerprint char(64) NOT NULL,
        label varchar(120),
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, fingerprint)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['known_devices', 'password_reset_tokens', 'password_history', 'used_refresh_tokens', 'sessions'])
      await q.query(`DROP TABLE ${t}`);
  }
}
