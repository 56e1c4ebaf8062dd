import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** Every table listed through the generic CRM service, each with a generated lowercase `search` column. */
const TABLES = ['clients', 'leads', 'listings', 'appointments', 'escrows', 'activities', 'tasks'] as const;

/** Above this many matches a term is "common": the list walks its created_at index instead (see below). */
export const SEARCH_FENCE_CAP = 500;

/**
 * Search (`q`) that stays fast at 1M rows of one team.
 *
 * Measured at 1M clients in one team (README, Performance): the list runs as `app_tenant` under row-level
 * security, and a qual that is not LEAKPROOF (LIKE/ILIKE are not) may not be used as an index condition ahead of
 * the policies, so the trigram index was never used: a rare name or a string matching nothing read every row of
 * the team (5 s at 1M). And ILIKE on a multibyte database lowercases every row it tests (4× the cost of LIKE
 * on the already-lowercase `search` column).
 *
 * - `<table>_team_search_trgm_idx`: GIN over `(team_id, search gin_trgm_ops)` (btree_gin for the uuid), so a
 *   team's search never scans another team's postings; `fastupdate = off`, so inserted rows go straight into the
 *   index instead of a pending list that every search re-reads until the next vacuum (search slowed within a
 *   bench run). It replaces the team-less `<table>_search_trgm_idx`.
 * - `crm_search_ids(table, team, pattern)`: the ids of the team's rows whose search text matches, read through
 *   that index as the owner (no policies, so the index is usable), or NULL when there are more than
 *   SEARCH_FENCE_CAP of them (a term the connection found common in the last minute skips the probe).
 *   Declared IMMUTABLE on purpose: with constant arguments the planner evaluates it
 *   while planning, so a rare term becomes `id = ANY ('{…}')` (a handful of primary-key lookups, leakproof, under
 *   the policies as usual) and a common one folds away (`NULL IS NULL OR …` is true) and the list walks its
 *   `(team_id, created_at DESC, id DESC)` index, finding its page within the first rows. Only ids of the
 *   transaction's own team (app.team_id) are ever returned, and only as a superset of the rows the query's own
 *   `search LIKE …`, team filter and policies then select, so results are unchanged. The one caveat of the
 *   plan-time evaluation: a statement planned once and run many times (a named prepared statement with literal
 *   arguments) would keep its ids; the app plans each list statement once per execution.
 */
export class SearchIndex1733300004000 implements MigrationInterface {
  name = 'SearchIndex1733300004000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS btree_gin`);
    for (const table of TABLES) {
      if (!(await exists(q, table))) continue;
      await q.query(
        `CREATE INDEX ${table}_team_search_trgm_idx ON ${table} USING gin (team_id, search gin_trgm_ops) WITH (fastupdate = off)`,
      );
      await q.query(`DROP INDEX IF EXISTS ${table}_search_trgm_idx`);
    }
    await q.query(`
      CREATE FUNCTION crm_search_ids(tbl text, team uuid, pattern text) RETURNS uuid[]
        LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        -- the team's trigram postings, never a walk of the team
        SET enable_seqscan = off SET enable_indexscan = off SET max_parallel_workers_per_gather = 0
      AS $$
        DECLARE
          key text := tbl || '|' || team || '|' || pattern;
          hash text := md5(tbl || '|' || team || '|' || pattern);
          now_s bigint := extract(epoch FROM clock_timestamp())::bigint;
          common text := coalesce(current_setting('hearth.search_common', true), '');
          entry text;
          ids uuid[];
        BEGIN
          IF tbl NOT IN (${TABLES.map((t) => `'${t}'`).join(', ')}) THEN
            RAISE EXCEPTION 'crm_search_ids: % has no search index', tbl USING ERRCODE = '22023';
          END IF;
          -- Outside a team's transaction there is nothing to narrow: the caller's own filters decide.
          IF NULLIF(current_setting('app.team_id', true), '') IS NULL THEN
            RETURN NULL;
          END IF;
          IF team IS DISTINCT FROM current_setting('app.team_id', true)::uuid THEN
            RAISE EXCEPTION 'crm_search_ids: not the transaction''s team' USING ERRCODE = '42501';
          END IF;
          -- The planner calls it twice per statement (IS NULL, = ANY): the second call reads the first's answer.
          IF current_setting('hearth.search_key', true) = key THEN
            RETURN NULLIF(current_setting('hearth.search_ids', true), '')::uuid[];
          END IF;
          -- A term this connection found common within the last minute is common still: skip the probe (its
          -- postings and 501 rechecks cost as much as the walk itself). Only a plan hint: at worst a term that
          -- became rare is walked for a minute, with the same result.
          IF common <> '' THEN
            FOREACH entry IN ARRAY string_to_array(common, ',') LOOP
              IF left(entry, 32) = hash AND substr(entry, 34)::bigint > now_s - 60 THEN
                PERFORM set_config('enable_sort', 'off', true);
                PERFORM set_config('hearth.search_key', key, true), set_config('hearth.search_ids', '', true);
                RETURN NULL;
              END IF;
            END LOOP;
          END IF;
          EXECUTE format(
            'SELECT array_agg(id) FROM (SELECT id FROM public.%I WHERE team_id = $1 AND search LIKE $2 LIMIT ${SEARCH_FENCE_CAP + 1}) hits',
            tbl)
            INTO ids USING team, pattern;
          IF cardinality(ids) > ${SEARCH_FENCE_CAP} THEN
            ids := NULL;
            -- A common term: the page is among the newest rows, so the list must walk the index of its sort order.
            -- The planner cannot see that under the policies (their selectivity is unknown to it, so it expects a
            -- few dozen matches and prefers reading them all and sorting): no sort in this transaction (the
            -- list's own, which ends with this statement and its count).
            PERFORM set_config('enable_sort', 'off', true);
            -- Remember it for this connection (16 terms, newest first; hashes only, no search text kept).
            PERFORM set_config('hearth.search_common',
              array_to_string((ARRAY[hash || ':' || now_s] || string_to_array(NULLIF(common, ''), ','))[1:16], ','), false);
          ELSE
            ids := coalesce(ids, '{}');
          END IF;
          PERFORM set_config('hearth.search_key', key, true), set_config('hearth.search_ids', coalesce(ids::text, ''), true);
          RETURN ids;
        END
      $$`);
    await q.query(`REVOKE ALL ON FUNCTION crm_search_ids(text, uuid, text) FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION crm_search_ids(text, uuid, text) TO app_tenant`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION crm_search_ids(text, uuid, text)`);
    for (const table of [...TABLES].reverse()) {
      if (!(await exists(q, table))) continue;
      await q.query(`CREATE INDEX ${table}_search_trgm_idx ON ${table} USING gin (search gin_trgm_ops)`);
      await q.query(`DROP INDEX ${table}_team_search_trgm_idx`);
    }
  }
}

async function exists(q: QueryRunner, table: string): Promise<boolean> {
  const rows = (await q.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [`public.${table}`])) as {
    present: boolean;
  }[];
  return rows[0]?.present === true;
}
