import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { AUDIT_LANES } from './1733100000000-audit-chain-lanes';

/**
 * Audit chain: a transaction that appends many audit rows (a 50,000-row CSV import writes one per record)
 * updates its lane head once per statement instead of once per row.
 *
 * The v2 trigger (1733100000000) locked a lane head and UPDATEd it for every row. Within one transaction each
 * UPDATE adds a version of that one heads row that no one can prune before COMMIT, and every next row's lookup
 * walks all of them: n rows cost O(n²) (5,000 rows 6 s, 10,000 rows 19 s, 50,000 beyond any timeout).
 *
 * Now the row trigger remembers the lane it holds in a transaction-local setting (`audit_head.t<team>` =
 * lane|seq|hash|created_at) and links the next row of that team from there; an AFTER INSERT … FOR EACH
 * STATEMENT trigger writes the heads that changed. This is sound because the lane's row lock and the setting
 * live and die together: both were taken in this transaction, both last until it ends, and a rollback to a
 * savepoint undoes both (locks and local settings taken in the subtransaction go with it). Lanes, seq, hashes
 * and the rows themselves are exactly what the per-row version produces; the verifier is unchanged.
 */
export class AuditLinkPerStatement1733300003100 implements MigrationInterface {
  name = 'AuditLinkPerStatement1733300003100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION audit_log_link() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      DECLARE
        head_lane smallint;
        head_seq bigint;
        head_hash text;
        waiting_lane int := floor(random() * ${AUDIT_LANES})::int;
        slot text := 'audit_head.t' || replace(NEW.team_id::text, '-', '');
        held text := current_setting(slot, true);
        parts text[];
        dirty text;
      BEGIN
        IF held IS NOT NULL AND held <> '' THEN
          -- This transaction already holds a lane of this team (locked below, earlier): continue its chain.
          parts := string_to_array(held, '|');
          head_lane := parts[1]::smallint;
          head_seq := parts[2]::bigint;
          head_hash := parts[3];
        ELSE
          SELECT lane, seq, hash INTO head_lane, head_seq, head_hash FROM audit_chain_heads
           WHERE team_id = NEW.team_id ORDER BY lane LIMIT 1 FOR UPDATE SKIP LOCKED;
          IF NOT FOUND THEN
            -- The team's first write creates its lanes (a no-op when they exist and are all busy).
            INSERT INTO audit_chain_heads (team_id, lane, seq, hash)
              SELECT NEW.team_id, l, 0, repeat('0', 64) FROM generate_series(0, ${AUDIT_LANES - 1}) AS l
              ON CONFLICT DO NOTHING;
            SELECT lane, seq, hash INTO head_lane, head_seq, head_hash FROM audit_chain_heads
             WHERE team_id = NEW.team_id ORDER BY lane LIMIT 1 FOR UPDATE SKIP LOCKED;
            IF NOT FOUND THEN
              -- Every lane is busy: queue on one.
              SELECT lane, seq, hash INTO head_lane, head_seq, head_hash FROM audit_chain_heads
               WHERE team_id = NEW.team_id AND lane = waiting_lane FOR UPDATE;
            END IF;
          END IF;
        END IF;
        NEW.lane := head_lane;
        NEW.seq := head_seq + 1;
        NEW.prev_hash := head_hash;
        -- Milliseconds, as the API shows it, so from/to filters with a shown createdAt are exact.
        NEW.created_at := date_trunc('milliseconds', clock_timestamp());
        NEW.hash_version := 2;
        NEW.hash := encode(sha256(convert_to(NEW.prev_hash || audit_link_material(NEW), 'UTF8')), 'hex');
        PERFORM set_config(slot, concat_ws('|', NEW.lane, NEW.seq, NEW.hash, NEW.created_at), true);
        dirty := coalesce(current_setting('audit_head.dirty', true), '');
        IF position(NEW.team_id::text IN dirty) = 0 THEN
          PERFORM set_config('audit_head.dirty', concat_ws(',', NULLIF(dirty, ''), NEW.team_id::text), true);
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE FUNCTION audit_log_flush_heads() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      DECLARE
        dirty text := coalesce(current_setting('audit_head.dirty', true), '');
        team text;
        parts text[];
      BEGIN
        IF dirty = '' THEN RETURN NULL; END IF;
        FOREACH team IN ARRAY string_to_array(dirty, ',') LOOP
          parts := string_to_array(current_setting('audit_head.t' || replace(team, '-', ''), true), '|');
          UPDATE audit_chain_heads SET seq = parts[2]::bigint, hash = parts[3], updated_at = parts[4]::timestamptz
           WHERE team_id = team::uuid AND lane = parts[1]::smallint;
        END LOOP;
        PERFORM set_config('audit_head.dirty', '', true);
        RETURN NULL;
      END $$`);
    await q.query(
      `CREATE TRIGGER audit_log_flush_heads AFTER INSERT ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_flush_heads()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER audit_log_flush_heads ON audit_log`);
    await q.query(`DROP FUNCTION audit_log_flush_heads()`);
    await q.query(`
      CREATE OR REPLACE FUNCTION audit_log_link() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      DECLARE
        head record;
        waiting_lane int := floor(random() * ${AUDIT_LANES})::int;
      BEGIN
        SELECT lane, seq, hash INTO head FROM audit_chain_heads
         WHERE team_id = NEW.team_id ORDER BY lane LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
          INSERT INTO audit_chain_heads (team_id, lane, seq, hash)
            SELECT NEW.team_id, l, 0, repeat('0', 64) FROM generate_series(0, ${AUDIT_LANES - 1}) AS l
            ON CONFLICT DO NOTHING;
          SELECT lane, seq, hash INTO head FROM audit_chain_heads
           WHERE team_id = NEW.team_id ORDER BY lane LIMIT 1 FOR UPDATE SKIP LOCKED;
          IF NOT FOUND THEN
            SELECT lane, seq, hash INTO head FROM audit_chain_heads
             WHERE team_id = NEW.team_id AND lane = waiting_lane FOR UPDATE;
          END IF;
        END IF;
        NEW.lane := head.lane;
        NEW.seq := head.seq + 1;
        NEW.prev_hash := head.hash;
        NEW.created_at := date_trunc('milliseconds', clock_timestamp());
        NEW.hash_version := 2;
        NEW.hash := encode(sha256(convert_to(NEW.prev_hash || audit_link_material(NEW), 'UTF8')), 'hex');
        UPDATE audit_chain_heads SET seq = NEW.seq, hash = NEW.hash, updated_at = NEW.created_at
         WHERE team_id = NEW.team_id AND lane = NEW.lane;
        RETURN NEW;
      END $$`);
  }
}
