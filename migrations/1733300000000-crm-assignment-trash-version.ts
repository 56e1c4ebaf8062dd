import { type MigrationInterface, type QueryRunner } from 'typeorm';

const TABLES = ['clients', 'leads', 'listings', 'appointments', 'escrows'] as const;

/** The row-visibility condition of the CRM tables' restrictive policies (beside the team isolation policy). */
const VISIBLE = `crm_visible(assigned_to) AND (deleted_at IS NULL OR current_setting('app.trash', true) = 'on')`;

/**
 * Assignment, trash and optimistic concurrency on the CRM tables, and per-team record visibility.
 *
 * - `assigned_to`: a user of the same team (composite FK to `users (team_id, id)`, NO ACTION: removing a user
 *   first reassigns or unassigns their records with audit rows, so no silent SET NULL), backfilled from
 *   `created_by` where that user still exists in the team.
 * - `deleted_at`: the trash. Unique indexes only count live rows, so a trashed twin (same MLS number) never
 *   blocks re-creating the record.
 * - `version`: 1 on create, +1 per change (If-Match / ETag).
 * - `teams.agent_visibility`: 'team' (everyone sees every record) or 'assigned' (agents and viewers see only
 *   records assigned to them).
 *
 * Row-level security: the existing permissive `<table>_team_isolation` policy (FOR ALL, team only; it is also
 * what INSERT and UPDATE are checked against) stays, and RESTRICTIVE per-command policies are ANDed to it for
 * SELECT, UPDATE and DELETE: `crm_visible(assigned_to)` and "live, unless app.trash = 'on'". Restrictive policies
 * keep "team isolation" a single policy per table that nothing else can widen. UPDATE's new row is checked
 * against `true` only (an agent may hand a record over; a soft delete may set deleted_at), but an UPDATE or
 * INSERT … RETURNING also checks the new row against the SELECT policies: soft delete, restore and purge run with
 * app.trash = 'on'.
 *
 * TeamScope sets, in its one round trip: app.team_id, app.user_id, app.role (admin | agent | viewer | api_key |
 * system, '' when unknown) and app.agent_visibility (read from teams as the owner, before SET ROLE).
 * `crm_visible` is a plain SQL function of those settings (inlinable, no per-row lookup); when
 * app.agent_visibility is not set it asks `crm_team_visibility()` (SECURITY DEFINER, fixed search_path), so a
 * transaction that set only app.team_id still gets the team's rule. An unknown role never sees a record assigned
 * to someone else under 'assigned' (fail closed).
 */
export class CrmAssignmentTrashVersion1733300000000 implements MigrationInterface {
  name = 'CrmAssignmentTrashVersion1733300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD CONSTRAINT users_team_id_id_key UNIQUE (team_id, id)`);
    await q.query(`
      ALTER TABLE teams ADD COLUMN agent_visibility varchar(10) NOT NULL DEFAULT 'team'
        CONSTRAINT teams_agent_visibility_check CHECK (agent_visibility IN ('team', 'assigned'))`);

    // The tenant role checks an assignee (same team, not disabled) inside its own statements; users' RLS policy
    // limits it to its team's rows. Only these three columns.
    await q.query(`GRANT SELECT (id, team_id, disabled) ON users TO app_tenant`);

    await q.query(`
      CREATE FUNCTION crm_team_visibility() RETURNS text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
          SELECT agent_visibility FROM public.teams
           WHERE id = NULLIF(current_setting('app.team_id', true), '')::uuid
        $$`);
    await q.query(`REVOKE ALL ON FUNCTION crm_team_visibility() FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION crm_team_visibility() TO app_tenant`);
    await q.query(`
      CREATE FUNCTION crm_visible(assigned_to uuid) RETURNS boolean
        LANGUAGE sql STABLE AS $$
          SELECT coalesce(current_setting('app.role', true), '') IN ('admin', 'api_key', 'system')
              OR coalesce(
                   NULLIF(current_setting('app.agent_visibility', true), ''),
                   crm_team_visibility(),
                   'assigned') = 'team'
              OR (assigned_to IS NOT NULL
                  AND assigned_to = NULLIF(current_setting('app.user_id', true), '')::uuid)
        $$`);

    // Audit: trash restore and purge; the resource types of the new features (activities, tasks, webhooks, team).
    await q.query(`
      ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_log_action_check,
        ADD CONSTRAINT audit_log_action_check CHECK (action IN ('CREATE', 'UPDATE', 'DELETE', 'RESTORE', 'PURGE'))`);
    await q.query(`
      ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_log_resource_type_check,
        ADD CONSTRAINT audit_log_resource_type_check CHECK (resource_type IN (
          'client', 'lead', 'appointment', 'escrow', 'listing', 'activity', 'task', 'user', 'api_key', 'webhook', 'team'))`);

    for (const table of TABLES) {
      await q.query(`
        ALTER TABLE ${table}
          ADD COLUMN assigned_to uuid,
          ADD COLUMN deleted_at timestamptz,
          ADD COLUMN version integer NOT NULL DEFAULT 1 CONSTRAINT ${table}_version_check CHECK (version > 0)`);
      await q.query(`
        UPDATE ${table} t SET assigned_to = t.created_by
         WHERE t.created_by IS NOT NULL
           AND EXISTS (SELECT 1 FROM users u WHERE u.team_id = t.team_id AND u.id = t.created_by)`);
      await q.query(`
        ALTER TABLE ${table} ADD CONSTRAINT ${table}_assigned_to_fk
          FOREIGN KEY (team_id, assigned_to) REFERENCES users (team_id, id)`);
      // "My records, newest first"; also serves the reassignment's and the FK's lookups by assignee.
      await q.query(
        `CREATE INDEX ${table}_team_assigned_created_idx ON ${table} (team_id, assigned_to, created_at DESC, id DESC)`,
      );
      // The trash list (newest deletion first) and the purge; only trashed rows are in it.
      await q.query(
        `CREATE INDEX ${table}_team_trash_idx ON ${table} (team_id, deleted_at DESC, id DESC) WHERE deleted_at IS NOT NULL`,
      );

      await q.query(`
        CREATE POLICY ${table}_visible_select ON ${table} AS RESTRICTIVE FOR SELECT TO app_tenant
          USING (${VISIBLE})`);
      await q.query(`
        CREATE POLICY ${table}_visible_update ON ${table} AS RESTRICTIVE FOR UPDATE TO app_tenant
          USING (${VISIBLE}) WITH CHECK (true)`);
      await q.query(`
        CREATE POLICY ${table}_visible_delete ON ${table} AS RESTRICTIVE FOR DELETE TO app_tenant
          USING (${VISIBLE})`);
    }

    // Uniqueness among live rows only.
    await q.query(`DROP INDEX listings_team_mls_key`);
    await q.query(
      `CREATE UNIQUE INDEX listings_team_mls_key ON listings (team_id, mls_number) WHERE mls_number IS NOT NULL AND deleted_at IS NULL`,
    );
    await q.query(`DROP INDEX escrows_team_number_key`);
    await q.query(
      `CREATE UNIQUE INDEX escrows_team_number_key ON escrows (team_id, escrow_number) WHERE escrow_number IS NOT NULL AND deleted_at IS NULL`,
    );
    await q.query(`DROP INDEX clients_lead_id_key`);
    await q.query(
      `CREATE UNIQUE INDEX clients_lead_id_key ON clients (lead_id) WHERE lead_id IS NOT NULL AND deleted_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX clients_lead_id_key`);
    await q.query(`CREATE UNIQUE INDEX clients_lead_id_key ON clients (lead_id) WHERE lead_id IS NOT NULL`);
    await q.query(`DROP INDEX escrows_team_number_key`);
    await q.query(
      `CREATE UNIQUE INDEX escrows_team_number_key ON escrows (team_id, escrow_number) WHERE escrow_number IS NOT NULL`,
    );
    await q.query(`DROP INDEX listings_team_mls_key`);
    await q.query(
      `CREATE UNIQUE INDEX listings_team_mls_key ON listings (team_id, mls_number) WHERE mls_number IS NOT NULL`,
    );
    for (const table of [...TABLES].reverse()) {
      await q.query(`DROP POLICY ${table}_visible_delete ON ${table}`);
      await q.query(`DROP POLICY ${table}_visible_update ON ${table}`);
      await q.query(`DROP POLICY ${table}_visible_select ON ${table}`);
      // Trashed rows would come back to life: remove them for good.
      await q.query(`DELETE FROM ${table} WHERE deleted_at IS NOT NULL`);
      await q.query(`ALTER TABLE ${table} DROP COLUMN version, DROP COLUMN deleted_at, DROP COLUMN assigned_to`);
    }
    await q.query(`
      ALTER TABLE audit_log DROP CONSTRAINT audit_log_resource_type_check,
        ADD CONSTRAINT audit_log_resource_type_check CHECK (resource_type IN ('client', 'lead', 'appointment', 'escrow', 'listing', 'user', 'api_key'))`);
    await q.query(`
      ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check,
        ADD CONSTRAINT audit_log_action_check CHECK (action IN ('CREATE', 'UPDATE', 'DELETE'))`);
    await q.query(`DROP FUNCTION crm_visible(uuid)`);
    await q.query(`DROP FUNCTION crm_team_visibility()`);
    await q.query(`REVOKE SELECT (id, team_id, disabled) ON users FROM app_tenant`);
    await q.query(`ALTER TABLE teams DROP COLUMN agent_visibility`);
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_team_id_id_key`);
  }
}
