import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** The tables with a `team_id` column that had no row-level security until now. */
const TABLES = ['users', 'sessions', 'security_events'] as const;

/**
 * Row-level security on every table with a `team_id`: users, sessions and security_events join the CRM
 * tables, audit_log, audit_chain_heads and api_keys, with the same policy for `app_tenant` keyed on the
 * per-transaction `app.team_id` setting.
 *
 * No privileges are granted: the tenant role does not use these tables today (auth, users and security
 * events run as the owner role, which RLS does not restrict without FORCE, so cross-team paths such as login
 * by email keep working). The policy is the wall a future tenant-scoped path meets when it is granted access.
 * A row with a NULL team_id (a security event of no team) is invisible to the tenant role.
 * test/rls-catalogue.e2e-spec.ts fails for any table with a `team_id` that lacks RLS or this policy.
 */
export class TenantRlsEverywhere1733200000000 implements MigrationInterface {
  name = 'TenantRlsEverywhere1733200000000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of TABLES) {
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`
        CREATE POLICY ${table}_team_isolation ON ${table} TO app_tenant
          USING (team_id = NULLIF(current_setting('app.team_id', true), '')::uuid)
          WITH CHECK (team_id = NULLIF(current_setting('app.team_id', true), '')::uuid)`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [...TABLES].reverse()) {
      await q.query(`DROP POLICY ${table}_team_isolation ON ${table}`);
      await q.query(`ALTER TABLE ${table} DISABLE ROW LEVEL SECURITY`);
    }
  }
}
