import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** The CRM record tables: no access for the API role outside a tenant scope (functions below for the jobs). */
const CRM_TABLES = ['clients', 'leads', 'listings', 'appointments', 'escrows', 'activities', 'tasks'] as const;

/**
 * What the API role may do OUTSIDE a tenant scope on each table with row-level security, and why (the paths
 * that run before a team is known, or across teams by design). SECURITY.md ("Database roles") lists the same.
 * Every policy is `USING (true)` for the named commands only: the commands that are not named (and every
 * command on the CRM tables) see no rows and write none.
 */
const API_POLICIES: Record<string, { commands: readonly string[]; why: string }> = {
  users: {
    commands: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
    why: 'sign-in and password reset by email, the token’s user on each request, registration, users admin',
  },
  sessions: {
    commands: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
    why: 'refresh by token hash, revocation, session lists and clean-up',
  },
  security_events: {
    commands: ['SELECT', 'INSERT', 'DELETE'],
    why: 'events before a team is known (failed sign-ins, honeypot), the operator’s views, retention',
  },
  api_keys: { commands: ['SELECT', 'UPDATE'], why: 'lookup by prefix, last-used flush, expiry warnings' },
  audit_log: { commands: ['SELECT', 'INSERT'], why: 'audit rows of unscoped transactions (auth, users), verify' },
  audit_chain_heads: { commands: ['SELECT'], why: 'audit verify (the heads are written by SECURITY DEFINER triggers)' },
  webhooks: { commands: ['SELECT', 'UPDATE'], why: 'the dispatcher reads targets and marks failing ones' },
  webhook_events: { commands: ['SELECT', 'INSERT', 'DELETE'], why: 'outbox rows of unscoped events, retention' },
  webhook_deliveries: { commands: ['SELECT', 'INSERT', 'UPDATE'], why: 'the dispatcher’s cross-team claims' },
  idempotency_keys: { commands: ['SELECT', 'DELETE'], why: 'the purge of expired keys' },
};

/**
 * The least-privilege role the API connects as.
 *
 * `app_api` is a NOLOGIN group role holding every privilege the running API needs; a deployment grants it to
 * its own login role (`GRANT app_api TO hearth_api`), which must be neither superuser, BYPASSRLS nor the owner
 * of these tables (the API checks at start). Migrations run as the owner (DATABASE_MIGRATION_URL).
 *
 * - `app_tenant` is granted to `app_api` WITH INHERIT FALSE, SET TRUE: the API may `SET LOCAL ROLE app_tenant`
 *   (TeamScope), but app_tenant's privileges and policies do not apply to it outside that switch.
 * - Outside a tenant scope the API role meets row-level security like anyone else: the policies below name
 *   what it may do per table (API_POLICIES); the CRM record tables have no policy and no grant for it at all,
 *   so customer records are reachable only inside a tenant scope or through the SECURITY DEFINER functions
 *   below (fixed search_path, narrow signatures, EXECUTE for app_api only).
 * - Future tables: default privileges give app_api SELECT/INSERT/UPDATE/DELETE on tables and USAGE/SELECT on
 *   sequences that the migrating role creates, so a new table works without a grant in its migration; a new
 *   table with row-level security still shows the API role nothing until its migration adds a policy for
 *   app_api (fail closed). A migration must revoke what the API role should not have.
 */
export class LeastPrivilegeApiRole1733400005000 implements MigrationInterface {
  name = 'LeastPrivilegeApiRole1733400005000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_api') THEN
          CREATE ROLE app_api NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
        END IF;
      END $$`);
    await q.query(`GRANT app_tenant TO app_api WITH INHERIT FALSE, SET TRUE`);
    await q.query(`GRANT USAGE ON SCHEMA public TO app_api`);

    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app_api`);
    await q.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO app_api`);
    // The app reads which migrations ran (a deployment that migrates separately starts with DATABASE_URL only).
    await q.query(`REVOKE INSERT, UPDATE, DELETE ON migrations FROM app_api`);
    await q.query(`REVOKE UPDATE, DELETE ON audit_log FROM app_api`);
    await q.query(`REVOKE INSERT, UPDATE, DELETE ON audit_chain_heads FROM app_api`);
    for (const table of CRM_TABLES) await q.query(`REVOKE ALL ON ${table} FROM app_api`);
    await q.query(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO app_api`,
    );
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO app_api`);

    for (const [table, { commands }] of Object.entries(API_POLICIES)) {
      for (const command of commands) {
        const using = command === 'INSERT' ? '' : 'USING (true)';
        const check = command === 'INSERT' || command === 'UPDATE' ? 'WITH CHECK (true)' : '';
        await q.query(
          `CREATE POLICY ${table}_api_${command.toLowerCase()} ON ${table} FOR ${command} TO app_api ${using} ${check}`,
        );
      }
    }

    // Trash purge: which teams have expired trash in a CRM table (team ids only; each team is purged in scope).
    await q.query(`
      CREATE FUNCTION crm_trash_teams(p_table text, p_cutoff timestamptz) RETURNS SETOF uuid
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
          IF (SELECT count(*) FROM pg_attribute a
                JOIN pg_class c ON c.oid = a.attrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relname = p_table AND c.relkind = 'r' AND c.relrowsecurity
                 AND a.attname IN ('team_id', 'deleted_at') AND NOT a.attisdropped) <> 2 THEN
            RAISE EXCEPTION 'crm_trash_teams: % is not a team table with a trash', p_table;
          END IF;
          RETURN QUERY EXECUTE format(
            'SELECT DISTINCT team_id FROM public.%I WHERE deleted_at IS NOT NULL AND deleted_at < $1', p_table)
            USING p_cutoff;
        END $$`);
    // Task reminders: claim the due ones of every team at the app's Clock time (the mail needs the assignee's
    // address), or give one back.
    await q.query(`
      CREATE FUNCTION task_reminders_claim(p_now timestamptz, p_lead interval, p_grace interval, p_limit integer)
        RETURNS TABLE (id uuid, title text, due_at timestamptz, priority text, email text, first_name text)
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
          UPDATE public.tasks t SET reminded_for_due_at = t.due_at
            FROM public.users u
           WHERE t.id IN (
                   SELECT c.id FROM public.tasks c
                    WHERE c.status = 'open' AND c.deleted_at IS NULL AND c.assigned_to IS NOT NULL
                      AND c.due_at IS NOT NULL
                      AND c.due_at <= p_now + p_lead
                      AND c.due_at > p_now - p_grace
                      AND c.reminded_for_due_at IS DISTINCT FROM c.due_at
                      AND EXISTS (SELECT 1 FROM public.users a
                                   WHERE a.team_id = c.team_id AND a.id = c.assigned_to AND NOT a.disabled)
                    ORDER BY c.due_at
                    LIMIT least(p_limit, 1000)
                    FOR UPDATE OF c SKIP LOCKED)
             AND u.team_id = t.team_id AND u.id = t.assigned_to
          RETURNING t.id, t.title::text, t.due_at, t.priority::text, u.email::text, u.first_name::text
        $$`);
    await q.query(`
      CREATE FUNCTION task_reminder_release(p_task uuid) RETURNS boolean
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
          WITH released AS (
            UPDATE public.tasks SET reminded_for_due_at = NULL
             WHERE id = p_task AND reminded_for_due_at = due_at RETURNING 1)
          SELECT EXISTS (SELECT 1 FROM released)
        $$`);
    for (const fn of [
      'crm_trash_teams(text, timestamptz)',
      'task_reminders_claim(timestamptz, interval, interval, integer)',
      'task_reminder_release(uuid)',
    ]) {
      await q.query(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`);
      await q.query(`GRANT EXECUTE ON FUNCTION ${fn} TO app_api`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION task_reminder_release(uuid)`);
    await q.query(`DROP FUNCTION task_reminders_claim(timestamptz, interval, interval, integer)`);
    await q.query(`DROP FUNCTION crm_trash_teams(text, timestamptz)`);
    for (const [table, { commands }] of Object.entries(API_POLICIES))
      for (const command of commands) await q.query(`DROP POLICY ${table}_api_${command.toLowerCase()} ON ${table}`);
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM app_api`);
    await q.query(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM app_api`,
    );
    await q.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM app_api`);
    await q.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM app_api`);
    await q.query(`REVOKE USAGE ON SCHEMA public FROM app_api`);
    await q.query(`REVOKE app_tenant FROM app_api`);
    // The role itself stays: roles are cluster-wide and a deployment's login role may still be a member.
  }
}
