import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The audit trail: one row per create, update and delete, hash-chained per team.
 *
 * `audit_chain_heads` holds each team's last sequence number and hash. A writer bumps its team's head with
 * `INSERT … ON CONFLICT DO UPDATE … RETURNING`, which row-locks that head until the transaction ends: writers
 * of one team take turns, other teams are not held up. The row's `hash` is
 * sha256(prev_hash || canonical JSON of the row); `npm run audit:verify` recomputes every link.
 *
 * The tenant role may read and append its team's rows, never change them; a trigger refuses UPDATE, DELETE
 * and TRUNCATE for everyone (a superuser can still disable it, which is what the verifier is for).
 */
export class AuditLog1732400001000 implements MigrationInterface {
  name = 'AuditLog1732400001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_chain_heads (
        team_id uuid PRIMARY KEY REFERENCES teams(id),
        seq bigint NOT NULL CHECK (seq > 0),
        hash varchar(64) NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE audit_log (
        id uuid PRIMARY KEY,
        team_id uuid NOT NULL REFERENCES teams(id),
        seq bigint NOT NULL CHECK (seq > 0),
        action varchar(10) NOT NULL CHECK (action IN ('CREATE', 'UPDATE', 'DELETE')),
        resource_type varchar(20) NOT NULL CHECK (resource_type IN ('client', 'lead', 'appointment', 'escrow', 'listing', 'user', 'api_key')),
        resource_id uuid,
        user_id uuid,
        api_key_id uuid,
        ip_address varchar(64),
        user_agent text,
        old_values jsonb,
        new_values jsonb,
        prev_hash varchar(64) NOT NULL,
        hash varchar(64) NOT NULL,
        created_at timestamptz NOT NULL,
        CONSTRAINT audit_log_team_seq_key UNIQUE (team_id, seq)
      )`);
    // The list is newest first by seq; the unique (team_id, seq) index serves it and the verifier's walk.
    await q.query(
      `CREATE INDEX audit_log_team_resource_idx ON audit_log (team_id, resource_type, resource_id, seq DESC)`,
    );
    await q.query(
      `CREATE INDEX audit_log_team_user_idx ON audit_log (team_id, user_id, seq DESC) WHERE user_id IS NOT NULL`,
    );
    await q.query(`CREATE INDEX audit_log_team_created_idx ON audit_log (team_id, created_at)`);

    await q.query(`
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(
      `CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`,
    );
    await q.query(
      `CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`,
    );

    for (const table of ['audit_log', 'audit_chain_heads']) {
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`
        CREATE POLICY ${table}_team_isolation ON ${table} TO app_tenant
          USING (team_id = NULLIF(current_setting('app.team_id', true), '')::uuid)
          WITH CHECK (team_id = NULLIF(current_setting('app.team_id', true), '')::uuid)`);
    }
    await q.query(`GRANT SELECT, INSERT ON audit_log TO app_tenant`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON audit_chain_heads TO app_tenant`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log`);
    await q.query(`DROP FUNCTION audit_log_append_only()`);
    await q.query(`DROP TABLE audit_chain_heads`);
  }
}
