import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** Lanes per team: how many audited writes of one team can commit at the same time. */
export const AUDIT_LANES = 16;

/**
 * Audit chain v2: lanes, and the database links each row itself.
 *
 * v1 kept one chain per team whose head stayed row-locked until the writer's COMMIT, so every audited write
 * of a team waited for the previous one's WAL flush: about 1,000 writes/s per team on the bench machine,
 * against 4,000 for plain inserts. Now each team has AUDIT_LANES chains. A BEFORE INSERT trigger takes the
 * lowest-numbered lane nobody holds (FOR UPDATE SKIP LOCKED; all busy → it waits on one), and sets lane,
 * seq (gapless within the lane), prev_hash, created_at (after the lock, so it follows seq within a lane)
 * and hash = sha256(prev_hash || audit_link_material(row)). Every property of v1 holds per lane: an edit,
 * a re-hash, a deletion, a dropped tail or an altered head still breaks a chain the verifier walks. A
 * lone writer always gets lane 0, so an unhurried team's trail is one chain, as before.
 *
 * Linking in the database means a change and its audit row are one statement (one round trip) and no
 * caller can forget or miscompute a link. The trigger runs as the owner: the tenant role may append audit
 * rows but can no longer touch the heads at all. Rows written before this migration keep their v1 hashes
 * (hash_version 1, lane 0) and the verifier checks each row by its own version.
 */
export class AuditChainLanes1733100000000 implements MigrationInterface {
  name = 'AuditChainLanes1733100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE audit_chain_heads ADD COLUMN lane smallint NOT NULL DEFAULT 0 CHECK (lane >= 0 AND lane < ${AUDIT_LANES})`,
    );
    await q.query(
      `ALTER TABLE audit_chain_heads DROP CONSTRAINT audit_chain_heads_pkey, ADD PRIMARY KEY (team_id, lane)`,
    );
    await q.query(
      `ALTER TABLE audit_chain_heads DROP CONSTRAINT audit_chain_heads_seq_check, ADD CONSTRAINT audit_chain_heads_seq_check CHECK (seq >= 0)`,
    );

    await q.query(
      `ALTER TABLE audit_log ADD COLUMN lane smallint NOT NULL DEFAULT 0, ADD COLUMN hash_version smallint NOT NULL DEFAULT 1`,
    );
    await q.query(
      `ALTER TABLE audit_log DROP CONSTRAINT audit_log_team_seq_key, ADD CONSTRAINT audit_log_team_lane_seq_key UNIQUE (team_id, lane, seq)`,
    );
    // The list pages newest first on (created_at, id), with or without a resource or user filter.
    await q.query(`DROP INDEX audit_log_team_created_idx, audit_log_team_resource_idx, audit_log_team_user_idx`);
    await q.query(`CREATE INDEX audit_log_team_created_idx ON audit_log (team_id, created_at DESC, id DESC)`);
    await q.query(
      `CREATE INDEX audit_log_team_resource_idx ON audit_log (team_id, resource_type, resource_id, created_at DESC, id DESC)`,
    );
    await q.query(
      `CREATE INDEX audit_log_team_user_idx ON audit_log (team_id, user_id, created_at DESC, id DESC) WHERE user_id IS NOT NULL`,
    );

    // Everything a v2 link covers: the whole row but its hashes, as jsonb's canonical text (keys sorted, one
    // spelling per value), so the verifier recomputes exactly what the writer hashed.
    await q.query(`
      CREATE FUNCTION audit_link_material(r audit_log) RETURNS text LANGUAGE sql STABLE AS $$
        SELECT jsonb_build_array(
          r.id, r.team_id, r.lane, r.seq, r.action, r.resource_type, r.resource_id, r.user_id, r.api_key_id,
          r.ip_address, r.user_agent, r.old_values, r.new_values,
          to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text
      $$`);

    await q.query(`
      CREATE FUNCTION audit_log_link() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      DECLARE
        head record;
        waiting_lane int := floor(random() * ${AUDIT_LANES})::int;
      BEGIN
        SELECT lane, seq, hash INTO head FROM audit_chain_heads
         WHERE team_id = NEW.team_id ORDER BY lane LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
          -- The team's first write creates its lanes (a no-op when they exist and are all busy).
          INSERT INTO audit_chain_heads (team_id, lane, seq, hash)
            SELECT NEW.team_id, l, 0, repeat('0', 64) FROM generate_series(0, ${AUDIT_LANES - 1}) AS l
            ON CONFLICT DO NOTHING;
          SELECT lane, seq, hash INTO head FROM audit_chain_heads
           WHERE team_id = NEW.team_id ORDER BY lane LIMIT 1 FOR UPDATE SKIP LOCKED;
          IF NOT FOUND THEN
            -- Every lane is busy: queue on one.
            SELECT lane, seq, hash INTO head FROM audit_chain_heads
             WHERE team_id = NEW.team_id AND lane = waiting_lane FOR UPDATE;
          END IF;
        END IF;
        NEW.lane := head.lane;
        NEW.seq := head.seq + 1;
        NEW.prev_hash := head.hash;
        -- Milliseconds, as the API shows it, so from/to filters with a shown createdAt are exact.
        NEW.created_at := date_trunc('milliseconds', clock_timestamp());
        NEW.hash_version := 2;
        NEW.hash := encode(sha256(convert_to(NEW.prev_hash || audit_link_material(NEW), 'UTF8')), 'hex');
        UPDATE audit_chain_heads SET seq = NEW.seq, hash = NEW.hash, updated_at = NEW.created_at
         WHERE team_id = NEW.team_id AND lane = NEW.lane;
        RETURN NEW;
      END $$`);
    await q.query(
      `CREATE TRIGGER audit_log_link BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_link()`,
    );

    // Heads are the trigger's business alone now.
    await q.query(`REVOKE INSERT, UPDATE ON audit_chain_heads FROM app_tenant`);
    // v1 heads become lane 0; a team's other lanes appear the first time a writer finds lane 0 busy.
  }

  async down(q: QueryRunner): Promise<void> {
    // v1 has no place for a second lane or a database-made hash: refuse rather than break the chains.
    await q.query(`
      DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM audit_log WHERE hash_version <> 1) THEN
          RAISE EXCEPTION 'cannot revert AuditChainLanes: audit rows linked by v2 exist';
        END IF;
      END $$`);
    await q.query(`DELETE FROM audit_chain_heads WHERE lane <> 0 OR seq = 0`);
    await q.query(`GRANT INSERT, UPDATE ON audit_chain_heads TO app_tenant`);
    await q.query(`DROP TRIGGER audit_log_link ON audit_log`);
    await q.query(`DROP FUNCTION audit_log_link()`);
    await q.query(`DROP FUNCTION audit_link_material(audit_log)`);
    await q.query(`DROP INDEX audit_log_team_created_idx, audit_log_team_resource_idx, audit_log_team_user_idx`);
    await q.query(`CREATE INDEX audit_log_team_created_idx ON audit_log (team_id, created_at)`);
    await q.query(
      `CREATE INDEX audit_log_team_resource_idx ON audit_log (team_id, resource_type, resource_id, seq DESC)`,
    );
    await q.query(
      `CREATE INDEX audit_log_team_user_idx ON audit_log (team_id, user_id, seq DESC) WHERE user_id IS NOT NULL`,
    );
    await q.query(`ALTER TABLE audit_log DROP CONSTRAINT audit_log_team_lane_seq_key`);
    await q.query(`ALTER TABLE audit_log DROP COLUMN hash_version, DROP COLUMN lane`);
    await q.query(`ALTER TABLE audit_log ADD CONSTRAINT audit_log_team_seq_key UNIQUE (team_id, seq)`);
    await q.query(
      `ALTER TABLE audit_chain_heads DROP CONSTRAINT audit_chain_heads_seq_check, ADD CONSTRAINT audit_chain_heads_seq_check CHECK (seq > 0)`,
    );
    await q.query(`ALTER TABLE audit_chain_heads DROP CONSTRAINT audit_chain_heads_pkey, ADD PRIMARY KEY (team_id)`);
    await q.query(`ALTER TABLE audit_chain_heads DROP COLUMN lane`);
  }
}
