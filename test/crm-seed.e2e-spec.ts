import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { seedClients } from '../bench/seed';
import { ClientsService } from '../src/modules/crm/clients/clients.service';
import { type TestApp, startTestApp } from './helpers/test-app';
import { userActor } from './helpers/crm';

/** bench/seed.ts at a small scale, so the benchmark fixture cannot rot; and the list plan it exists to measure. */
describe('bench seed (small run) and the list query plan', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('seeds 2,000 clients over 2 teams with one statement, and the API lists them newest first', async () => {
    const result = await seedClients(async (sql, params) => t.dataSource.query(sql, params), {
      teams: 2,
      clients: 2000,
    });
    expect(result.clients).toBe(2000);
    expect(result.elapsedMs).toBeLessThan(20_000);
    const counts = await t.dataSource.query(
      `SELECT team_id, count(*)::int AS n FROM clients GROUP BY team_id ORDER BY team_id`,
    );
    expect(counts.map((c: { n: number }) => c.n)).toEqual([1000, 1000]);
    const users = await t.dataSource.query(`SELECT role FROM users WHERE email = ANY($1)`, [result.emails]);
    expect(users).toEqual([{ role: 'admin' }, { role: 'admin' }]);

    const clients = t.app.get(ClientsService);
    const page = await clients.list(userActor(result.teamIds[0]!), { limit: 50 });
    expect(page.items).toHaveLength(50);
    const times = page.items.map((c) => new Date(c.createdAt as string).getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const search = await clients.list(userActor(result.teamIds[1]!), { q: 'hopper', limit: 100 });
    expect(search.items.length).toBeGreaterThan(0);
    expect(search.items.every((c) => String(c.lastName).toLowerCase().includes('hopper'))).toBe(true);

    // The default list, first page and a keyset page, walks the (team_id, created_at DESC, id DESC) index: no sort step.
    for (const sql of [
      `EXPLAIN SELECT id FROM clients WHERE team_id = $1 ORDER BY created_at DESC, id DESC LIMIT 26`,
      `EXPLAIN SELECT id FROM clients WHERE team_id = $1 AND (created_at, id) < (now(), gen_random_uuid()) ORDER BY created_at DESC, id DESC LIMIT 26`,
    ]) {
      const plan = (await t.dataSource.query(sql, [result.teamIds[0]]))
        .map((r: Record<string, string>) => r['QUERY PLAN'])
        .join('\n');
      expect(plan).toContain('clients_team_created_idx');
      expect(plan).not.toMatch(/\bSort\b/);
    }
  });

  it('npm run bench:seed works against DATABASE_URL and prints the elapsed time', () => {
    const run = spawnSync('npm', ['run', '--silent', 'bench:seed', '--', '--teams', '2', '--clients', '200'], {
      cwd: join(__dirname, '..'),
      env: { ...process.env, DATABASE_URL: t.database.url, NODE_ENV: 'test', DATA_DIR: t.dataDir, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).not.toMatch(/failed/);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/seeded 200 clients over 2 teams in \d+\.\d s/);
  });
});
