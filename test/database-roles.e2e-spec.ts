import { Client } from 'pg';
import { loadConfig } from '../src/config/app-config';
import { checkDatabaseRole, readDatabaseRole } from '../src/database/database-role';
import { runMigrations } from '../src/database/migrate';
import { TeamScope } from '../src/database/team-scope';
import { registerTeam, type SignedIn } from './helpers/auth';
import { type TestApp, TEST_ENCRYPTION_KEY, TEST_JWT_SECRET, startTestApp } from './helpers/test-app';

/**
 * The API connects as a least-privilege role (a member of app_api, migration LeastPrivilegeApiRole): what an
 * injected statement could do with the app's own connection. Each check runs on a connection opened with the
 * app's own DATABASE_URL (database.apiUrl).
 */
describe('the API database role', () => {
  let t: TestApp;
  let a: SignedIn;
  let b: SignedIn;
  let api: Client;

  /** Runs `sql` on the API role's connection; the error message, or undefined when it succeeded. */
  const refusal = async (sql: string): Promise<string | undefined> => {
    try {
      await api.query(sql);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };

  beforeAll(async () => {
    t = await startTestApp();
    a = await registerTeam(t, { teamName: 'Roles A' });
    b = await registerTeam(t, { teamName: 'Roles B' });
    for (const team of [a, b]) {
      const res = await t.http.post(
        '/v1/clients',
        { firstName: 'Only', lastName: team.teamId },
        { token: team.accessToken },
      );
      expect(res.status).toBe(201);
    }
    api = new Client({ connectionString: t.database.apiUrl });
    await api.connect();
  });
  afterAll(async () => {
    await api?.end();
    await t?.close();
  });

  it('every connection of the app in pg_stat_activity is the API role: no superuser, no BYPASSRLS, not an owner', async () => {
    // Traffic that uses the pool (scoped reads, an unscoped sign-in) at once, so the pool holds connections.
    const answers = await Promise.all([
      t.http.get('/v1/clients', { token: a.accessToken }),
      t.http.get('/v1/clients', { token: b.accessToken }),
      t.http.post('/v1/auth/login', { email: a.email, password: a.password }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    // Every session on the test database except this file's own: the owner connection it seeds with
    // (application_name hearth-test-owner) and the `api` client opened above.
    const [apiPid] = (await api.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
    const rows = await t.dataSource.query<
      { usename: string; rolsuper: boolean; rolbypassrls: boolean; owns: boolean }[]
    >(
      `SELECT a.usename, r.rolsuper, r.rolbypassrls,
              EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = 'public' AND pg_has_role(r.oid, c.relowner, 'MEMBER')) AS owns
         FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
        WHERE a.datname = $1 AND a.application_name <> 'hearth-test-owner' AND a.pid <> $2`,
      [t.database.name, apiPid!.pid],
    );
    // The pool and the LISTEN connections (cache invalidation, webhook wake-ups) at least.
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const row of rows)
      expect(row).toEqual({ usename: 'hearth_api', rolsuper: false, rolbypassrls: false, owns: false });
    // The owner's connection the test seeds with is excluded by name, and it is indeed a superuser.
    const [self] = await t.dataSource.query<{ rolsuper: boolean; app: string }[]>(
      `SELECT rolsuper, current_setting('application_name') AS app FROM pg_roles WHERE rolname = current_user`,
    );
    expect(self).toEqual({ rolsuper: true, app: 'hearth-test-owner' });
  });

  it('the start-up check finds nothing wrong with it', async () => {
    expect(await readDatabaseRole(api)).toEqual({
      role: 'hearth_api',
      superuser: false,
      bypassRls: false,
      canBecomePrivileged: false,
      ownsTables: false,
    });
  });

  it('cannot become the owner or a superuser: SET ROLE postgres and SET SESSION AUTHORIZATION are refused', async () => {
    expect(await refusal('SET ROLE postgres')).toMatch(/permission denied/);
    expect(await refusal('SET SESSION AUTHORIZATION postgres')).toMatch(/permission denied/);
    // RESET ROLE leads back to itself only.
    await api.query('RESET ROLE');
    const [me] = (await api.query<{ u: string }>('SELECT current_user AS u')).rows;
    expect(me!.u).toBe('hearth_api');
  });

  it('cannot run programs or read server files: COPY … PROGRAM and pg_read_file are refused', async () => {
    expect(await refusal(`COPY (SELECT 1) TO PROGRAM 'true'`)).toMatch(
      /permission denied|must be superuser|pg_execute_server_program/,
    );
    expect(await refusal(`COPY (SELECT 1) TO '/tmp/hearth-role-test'`)).toMatch(
      /permission denied|must be superuser|pg_write_server_files/,
    );
    expect(await refusal(`SELECT pg_read_file('postgresql.conf')`)).toMatch(/permission denied/);
  });

  it('cannot change the schema or switch row-level security off', async () => {
    expect(await refusal('ALTER TABLE clients ADD COLUMN injected int')).toMatch(/must be owner/);
    expect(await refusal('ALTER TABLE users DISABLE ROW LEVEL SECURITY')).toMatch(/must be owner/);
    expect(await refusal('DROP POLICY users_team_isolation ON users')).toMatch(/must be owner/);
    expect(await refusal('CREATE TABLE injected (x int)')).toMatch(/permission denied/);
    expect(await refusal('ALTER ROLE hearth_api BYPASSRLS')).toMatch(/permission denied/);
    expect(await refusal(`CREATE FUNCTION injected() RETURNS int LANGUAGE sql AS 'SELECT 1'`)).toMatch(
      /permission denied/,
    );
  });

  it('outside a tenant scope it has no access to the CRM records at all', async () => {
    expect(await refusal('SELECT count(*) FROM clients')).toMatch(/permission denied for table clients/);
    expect(await refusal(`UPDATE tasks SET title = 'x'`)).toMatch(/permission denied for table tasks/);
  });

  it("in a tenant scope row-level security shows its team's rows only, and RESET ROLE gains nothing", async () => {
    await api.query(TeamScope.scopeSql({ teamId: a.teamId, role: 'admin' }));
    try {
      const seen = await api.query<{ team_id: string }>('SELECT team_id FROM clients');
      expect(seen.rows.map((r) => r.team_id)).toEqual([a.teamId]);
      // Another team's id in the statement does not help.
      const other = await api.query('SELECT 1 FROM clients WHERE team_id = $1', [b.teamId]);
      expect(other.rowCount).toBe(0);
      // An injected RESET ROLE drops back to the API role, which cannot read clients.
      await api.query('RESET ROLE');
      expect(await refusal('SELECT count(*) FROM clients')).toMatch(/permission denied/);
    } finally {
      await api.query('ROLLBACK');
    }
  });

  it("its reach outside a tenant scope is exactly the list in docs/database-roles.md, and none of it is CRM's", async () => {
    const policies = await t.dataSource.query<{ table: string; cmd: string; qual: string | null }[]>(
      `SELECT tablename AS table, cmd, qual FROM pg_policies
        WHERE schemaname = 'public' AND 'app_api' = ANY (roles) ORDER BY tablename, cmd`,
    );
    const reach: Record<string, string[]> = {};
    for (const p of policies) (reach[p.table] ??= []).push(p.cmd);
    expect(reach).toEqual({
      api_keys: ['SELECT', 'UPDATE'],
      audit_chain_heads: ['SELECT'],
      audit_log: ['INSERT', 'SELECT'],
      idempotency_keys: ['DELETE', 'SELECT'],
      security_events: ['DELETE', 'INSERT', 'SELECT'],
      sessions: ['DELETE', 'INSERT', 'SELECT', 'UPDATE'],
      users: ['DELETE', 'INSERT', 'SELECT', 'UPDATE'],
      webhook_deliveries: ['INSERT', 'SELECT', 'UPDATE'],
      webhook_events: ['DELETE', 'INSERT', 'SELECT'],
      webhooks: ['SELECT', 'UPDATE'],
    });
    const crm = ['clients', 'leads', 'listings', 'appointments', 'escrows', 'activities', 'tasks'];
    const privileges = await t.dataSource.query<{ table: string; any: boolean }[]>(
      `SELECT t AS table, has_table_privilege('app_api', t, 'SELECT, INSERT, UPDATE, DELETE') AS any
         FROM unnest($1::text[]) AS t`,
      [crm],
    );
    expect(privileges).toEqual(crm.map((table) => ({ table, any: false })));
    // The audit trail is append-only for the API role too.
    const [audit] = await t.dataSource.query<{ update: boolean; delete: boolean }[]>(
      `SELECT has_table_privilege('app_api', 'audit_log', 'UPDATE') AS update,
              has_table_privilege('app_api', 'audit_log', 'DELETE') AS delete`,
    );
    expect(audit).toEqual({ update: false, delete: false });
  });

  it('with nothing pending, the migration step also runs as the API role (a deployment that migrates apart)', async () => {
    expect(await runMigrations(t.config, t.database.apiUrl)).toEqual([]);
  });

  it('the cross-team functions are the only way across, and return no more than they say', async () => {
    // Trash purge: team ids only; a table without a trash is refused.
    const teams = await api.query(`SELECT * FROM crm_trash_teams('clients', now())`);
    expect(teams.rows).toEqual([]);
    expect(await refusal(`SELECT * FROM crm_trash_teams('users', now())`)).toMatch(/not a team table/);
    expect(await refusal(`SELECT * FROM crm_trash_teams('clients; DROP TABLE users', now())`)).toMatch(
      /not a team table/,
    );
    // PUBLIC cannot execute them (revoked); the API role can.
    const rows = await t.dataSource.query<{ fn: string; public_can: boolean }[]>(
      `SELECT p.proname AS fn, has_function_privilege('public', p.oid, 'EXECUTE') AS public_can
         FROM pg_proc p WHERE p.proname IN ('crm_trash_teams', 'task_reminders_claim', 'task_reminder_release')`,
    );
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row.public_can).toBe(false);
  });
});

describe('the start-up check of the API role', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  const production = () =>
    loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: t.database.url,
      DB_SSL_MODE: 'require',
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      DATA_DIR: t.dataDir,
    });

  it('production refuses a superuser DATABASE_URL, naming it', async () => {
    // DB_SSL_MODE=require against a server without TLS: use the check's own client without TLS.
    const config = { ...production(), database: { ...production().database, sslMode: 'disable' as const } };
    await expect(checkDatabaseRole(config, t.database.url, () => undefined)).rejects.toThrow(
      /^DATABASE_URL: the role "postgres" is a superuser/,
    );
  });

  it('development and tests only warn; the API role passes without a warning', async () => {
    const warnings: string[] = [];
    const config = loadConfig({ NODE_ENV: 'development', DATA_DIR: t.dataDir, DATABASE_URL: t.database.url });
    const facts = await checkDatabaseRole(config, t.database.url, (m) => warnings.push(m));
    expect(facts.superuser).toBe(true);
    expect(warnings).toEqual([expect.stringMatching(/^DATABASE_URL: the role "postgres" is a superuser/)]);
    warnings.length = 0;
    await checkDatabaseRole(config, t.database.apiUrl, (m) => warnings.push(m));
    expect(warnings).toEqual([]);
  });

  it('a login that can SET ROLE to the owner or owns the tables is refused as well', async () => {
    const name = `owner_member_${Date.now()}`;
    await t.dataSource.query(`CREATE ROLE ${name} LOGIN PASSWORD 'x-${name}' NOSUPERUSER NOBYPASSRLS`);
    try {
      await t.dataSource.query(`GRANT app_api TO ${name}`);
      await t.dataSource.query(`GRANT postgres TO ${name}`);
      const url = t.database.apiUrl.replace(/\/\/[^@]+@/, `//${name}:${encodeURIComponent(`x-${name}`)}@`);
      const config = { ...production(), database: { ...production().database, sslMode: 'disable' as const } };
      await expect(checkDatabaseRole(config, url, () => undefined)).rejects.toThrow(
        /can SET ROLE to a superuser or BYPASSRLS role, owns \(or can act as the owner of\) the tables/,
      );
    } finally {
      await t.dataSource.query(`DROP ROLE ${name}`);
    }
  });
});
