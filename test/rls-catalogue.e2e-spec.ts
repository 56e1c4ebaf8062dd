import { Client } from 'pg';
import { registerTeam, type SignedIn } from './helpers/auth';
import { type TestApp, startTestApp } from './helpers/test-app';

interface TeamTable {
  table: string;
  rls: boolean;
}

interface TenantPolicy {
  table: string;
  policy: string;
  cmd: string;
  qual: string | null;
  with_check: string | null;
}

/**
 * Row-level security everywhere a row belongs to a team: the catalogue lists every table of the public
 * schema with a `team_id` column, and each must have RLS enabled and a policy for `app_tenant` keyed on
 * `app.team_id`. Then, as `app_tenant` with team A's id set, a query that forgets its team filter sees team A's
 * rows only (SELECT is granted inside the test transaction where the role lacks it, and rolled back).
 */
describe('row-level security on every table with a team_id', () => {
  let t: TestApp;
  let a: SignedIn;
  let b: SignedIn;
  let pg: Client;

  beforeAll(async () => {
    t = await startTestApp();
    a = await registerTeam(t, { teamName: 'RLS A' });
    b = await registerTeam(t, { teamName: 'RLS B' });
    pg = new Client({ connectionString: t.database.url });
    await pg.connect();
    // Make sure both teams have security events (registration may or may not record one).
    for (const teamId of [a.teamId, b.teamId])
      await pg.query(
        `INSERT INTO security_events (event_type, severity, team_id, details) VALUES ('rls_test', 'low', $1, '{}')`,
        [teamId],
      );
  });
  afterAll(async () => {
    await pg?.end();
    await t?.close();
  });

  const teamTables = async (): Promise<TeamTable[]> =>
    (
      await pg.query<TeamTable>(
        `SELECT c.relname AS table, c.relrowsecurity AS rls
           FROM information_schema.columns col
           JOIN pg_namespace n ON n.nspname = col.table_schema
           JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = col.table_name
          WHERE col.table_schema = 'public' AND col.column_name = 'team_id' AND c.relkind IN ('r', 'p')
          ORDER BY c.relname`,
      )
    ).rows;

  it('every public table with a team_id has RLS enabled and an app_tenant policy on app.team_id', async () => {
    const tables = await teamTables();
    // The known ones at least: the catalogue query must not come back empty or partial by mistake.
    expect(tables.map((r) => r.table)).toEqual(
      expect.arrayContaining([
        'users',
        'sessions',
        'security_events',
        'api_keys',
        'audit_log',
        'audit_chain_heads',
        'clients',
        'leads',
        'listings',
        'appointments',
        'escrows',
      ]),
    );

    const policies = (
      await pg.query<TenantPolicy>(
        `SELECT tablename AS table, policyname AS policy, cmd, qual, with_check
           FROM pg_policies
          WHERE schemaname = 'public' AND 'app_tenant' = ANY (roles) AND permissive = 'PERMISSIVE'`,
      )
    ).rows;
    const keyed = (expr: string | null) => expr !== null && expr.includes('team_id') && expr.includes('app.team_id');

    const problems: string[] = [];
    for (const { table, rls } of tables) {
      if (!rls) problems.push(`${table}: row level security is not enabled`);
      const own = policies.filter((p) => p.table === table);
      // FOR ALL, USING keyed on app.team_id, and WITH CHECK keyed too (or absent, when USING serves as the check).
      const good = own.some((p) => p.cmd === 'ALL' && keyed(p.qual) && (p.with_check === null || keyed(p.with_check)));
      if (!good) problems.push(`${table}: no policy for app_tenant on team_id = app.team_id`);
    }
    expect(problems).toEqual([]);
  });

  it.each(['users', 'sessions', 'security_events'])(
    '%s: as app_tenant with team A set, a query without a team filter sees team A rows only',
    async (table) => {
      const privilegesBefore = await tenantPrivileges(table);
      // Both teams have rows: the owner role (not subject to RLS) sees them all.
      const all = await pg.query<{ team_id: string; n: number }>(
        `SELECT team_id, count(*)::int AS n FROM ${table} WHERE team_id IN ($1, $2) GROUP BY team_id`,
        [a.teamId, b.teamId],
      );
      expect(all.rows.map((r) => r.team_id).sort()).toEqual([a.teamId, b.teamId].sort());
      const aCount = all.rows.find((r) => r.team_id === a.teamId)!.n;

      await pg.query('BEGIN');
      try {
        // The tenant role does not use these tables yet; lend it SELECT for this transaction only.
        await pg.query(`GRANT SELECT ON ${table} TO app_tenant`);
        await pg.query(`SET LOCAL ROLE app_tenant`);
        await pg.query(`SELECT set_config('app.team_id', $1, true)`, [a.teamId]);
        const seen = await pg.query<{ team_id: string | null }>(`SELECT team_id FROM ${table}`);
        expect(seen.rows.length).toBe(aCount);
        expect(new Set(seen.rows.map((r) => r.team_id))).toEqual(new Set([a.teamId]));

        // No team set: nothing at all.
        await pg.query(`SELECT set_config('app.team_id', '', true)`);
        expect((await pg.query(`SELECT 1 FROM ${table}`)).rows).toEqual([]);
      } finally {
        await pg.query('ROLLBACK');
      }
      // The lent privilege went with the rollback.
      expect(await tenantPrivileges(table)).toEqual(privilegesBefore);
    },
  );

  it('security_events: app_tenant cannot write a row into another team (WITH CHECK)', async () => {
    await pg.query('BEGIN');
    try {
      await pg.query(`GRANT INSERT ON security_events TO app_tenant`);
      await pg.query(`SET LOCAL ROLE app_tenant`);
      await pg.query(`SELECT set_config('app.team_id', $1, true)`, [a.teamId]);
      await pg.query(
        `INSERT INTO security_events (event_type, severity, team_id, details) VALUES ('rls_test', 'low', $1, '{}')`,
        [a.teamId],
      );
      await expect(
        pg.query(
          `INSERT INTO security_events (event_type, severity, team_id, details) VALUES ('rls_test', 'low', $1, '{}')`,
          [b.teamId],
        ),
      ).rejects.toThrow(/row-level security/);
    } finally {
      await pg.query('ROLLBACK');
    }
  });

  async function tenantPrivileges(table: string): Promise<Record<string, boolean>> {
    const res = await pg.query<Record<string, boolean>>(
      `SELECT has_table_privilege('app_tenant', $1, 'SELECT') AS select,
              has_table_privilege('app_tenant', $1, 'INSERT') AS insert,
              has_table_privilege('app_tenant', $1, 'UPDATE') AS update,
              has_table_privilege('app_tenant', $1, 'DELETE') AS delete`,
      [table],
    );
    return res.rows[0]!;
  }
});
