import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Idempotency-Key records (owned by the idempotency module). One row per (team, credential, key): the claim
 * is an INSERT … ON CONFLICT DO NOTHING on that primary key, so however many requests race on one key exactly
 * one of them does the work. `fingerprint` is method + routed path + params + query + sha256 of the body; the
 * stored answer (status, body) is replayed until `expires_at` (IDEMPOTENCY_TTL_HOURS), then purged.
 *
 * The rows are the team's (the tenant role reads and writes them with app.team_id set), hence RLS and the
 * same app_tenant policy as every other team table (test/rls-catalogue.e2e-spec.ts).
 */
export class Idempotency1733300003000 implements MigrationInterface {
  name = 'Idempotency1733300003000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
        credential_kind varchar(8) NOT NULL CHECK (credential_kind IN ('user', 'api_key')),
        credential_id uuid NOT NULL,
        idempotency_key varchar(255) NOT NULL,
        fingerprint varchar(128) NOT NULL,
        -- Which claim holds the row: completing or releasing touches only one's own claim, never a later one.
        claim_id uuid NOT NULL DEFAULT gen_random_uuid(),
        state varchar(12) NOT NULL DEFAULT 'in_progress' CHECK (state IN ('in_progress', 'completed')),
        status_code smallint NULL,
        response_body text NULL,
        content_type varchar(200) NULL,
        -- Answer headers that belong to the answer (ETag, Location), replayed with it.
        response_headers jsonb NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (team_id, credential_kind, credential_id, idempotency_key),
        CONSTRAINT idempotency_keys_completed_has_answer
          CHECK (state = 'in_progress' OR (status_code IS NOT NULL AND response_body IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at)`);
    await q.query(`ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY`);
    await q.query(`
      CREATE POLICY idempotency_keys_team_isolation ON idempotency_keys TO app_tenant
        USING (team_id = NULLIF(current_setting('app.team_id', true), '')::uuid)
        WITH CHECK (team_id = NULLIF(current_setting('app.team_id', true), '')::uuid)`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO app_tenant`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
  }
}
