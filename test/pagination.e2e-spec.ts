import { registerTeam, type SignedIn } from './helpers/auth';
import { type HttpResponse } from './helpers/http';
import { type TestApp, startTestApp } from './helpers/test-app';

/** Every inserted row's created_at falls inside this one millisecond; a third share one exact microsecond. */
const MS = '2024-05-06T07:08:09.123';
const ROWS = 60;
const at = (i: number) => `${MS}${String(i % 3 === 0 ? 500 : i * 7).padStart(3, '0')}Z`;

interface Listed {
  id: string;
}

/**
 * Keyset pagination of the three kinds of list (security events, audit log, CRM) over rows that share one
 * millisecond, many of them one microsecond: following `nextCursor` with the default page size returns every
 * row exactly once, in (created_at, id) order.
 */
describe('keyset pagination over rows sharing one millisecond', () => {
  let t: TestApp;
  let team: SignedIn;

  beforeAll(async () => {
    t = await startTestApp();
    team = await registerTeam(t);
  });
  afterAll(() => t.close());

  /** All pages of `path` at the default size: each full page has 25 rows, and the last has no cursor. */
  async function pages(path: string): Promise<Listed[]> {
    const rows: Listed[] = [];
    let cursor: string | null = null;
    const sep = path.includes('?') ? '&' : '?';
    for (let n = 0; n < 100; n++) {
      const res: HttpResponse = await t.http.get(cursor ? `${path}${sep}cursor=${cursor}` : path, {
        token: team.accessToken,
      });
      expect(res.status).toBe(200);
      expect(res.body.meta.limit).toBe(25);
      const data = res.body.data as Listed[];
      rows.push(...data);
      cursor = res.body.meta.nextCursor ?? null;
      if (!cursor) return rows;
      expect(data).toHaveLength(25);
    }
    throw new Error(`${path}: the cursor never ran out`);
  }

  /** The ids of `table`'s team rows in the order the list must give them. */
  async function expected(table: string, dir: 'DESC' | 'ASC', extra = ''): Promise<string[]> {
    const rows: { id: string }[] = await t.dataSource.query(
      `SELECT id FROM ${table} WHERE team_id = $1 ${extra} ORDER BY created_at ${dir}, id ${dir}`,
      [team.teamId],
    );
    return rows.map((r) => r.id);
  }

  function expectEveryRowOnce(got: Listed[], want: string[], inserted: string[]): void {
    const ids = got.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(want);
    for (const id of inserted) expect(ids).toContain(id);
  }

  it('security events: every row once, newest first, default page size 25', async () => {
    const inserted: { id: string }[] = await t.dataSource.query(
      `INSERT INTO security_events (event_type, severity, team_id, details, created_at)
       SELECT 'login_failed', 'medium', $1, '{}'::jsonb, x::timestamptz FROM unnest($2::text[]) AS x RETURNING id`,
      [team.teamId, Array.from({ length: ROWS }, (_, i) => at(i))],
    );
    const got = await pages('/v1/security-events');
    expect(got.length).toBeGreaterThan(ROWS);
    expectEveryRowOnce(
      got,
      await expected('security_events', 'DESC'),
      inserted.map((r) => r.id),
    );
    // Filtered to the inserted rows only: 25 + 25 + 10.
    const filtered = await pages(`/v1/security-events?eventType=login_failed&to=${MS.slice(0, 19)}.124Z`);
    expect(filtered.map((r) => r.id).sort()).toEqual(inserted.map((r) => r.id).sort());
  });

  it('audit log: every row once, newest first, default page size 25', async () => {
    // The audit_log_link trigger stamps created_at itself (and the table is append-only): insert the rows
    // with triggers off, in one transaction of this superuser connection.
    const inserted = await t.dataSource.transaction(async (m) => {
      await m.query(`SET LOCAL session_replication_role = replica`);
      const rows: { id: string }[] = await m.query(
        `INSERT INTO audit_log (id, team_id, lane, seq, action, resource_type, resource_id, prev_hash, hash, created_at)
         SELECT gen_random_uuid(), $1, 7, 100000 + n, 'CREATE', 'client', gen_random_uuid(), repeat('0', 64), repeat('0', 64),
                x::timestamptz
           FROM unnest($2::text[]) WITH ORDINALITY AS u(x, n) RETURNING id`,
        [team.teamId, Array.from({ length: ROWS }, (_, i) => at(i))],
      );
      return rows;
    });
    const got = await pages('/v1/audit-log');
    expect(got.length).toBeGreaterThanOrEqual(ROWS);
    expectEveryRowOnce(
      got,
      await expected('audit_log', 'DESC'),
      inserted.map((r) => r.id),
    );
  });

  it('a CRM list: every row once for -createdAt, createdAt and lastName (all ties), default page size 25', async () => {
    const inserted: { id: string }[] = await t.dataSource.query(
      `INSERT INTO leads (team_id, first_name, last_name, created_at, updated_at)
       SELECT $1, 'Tie', 'Same', x::timestamptz, x::timestamptz FROM unnest($2::text[]) AS x RETURNING id`,
      [team.teamId, Array.from({ length: ROWS }, (_, i) => at(i))],
    );
    const ids = inserted.map((r) => r.id);
    expectEveryRowOnce(await pages('/v1/leads'), await expected('leads', 'DESC'), ids);
    expectEveryRowOnce(await pages('/v1/leads?sort=createdAt'), await expected('leads', 'ASC'), ids);
    const byName: { id: string }[] = await t.dataSource.query(
      `SELECT id FROM leads WHERE team_id = $1 ORDER BY last_name DESC, id DESC`,
      [team.teamId],
    );
    expectEveryRowOnce(
      await pages('/v1/leads?sort=-lastName'),
      byName.map((r) => r.id),
      ids,
    );
  });

  it('a cursor of one list is refused by another (400 VALIDATION_ERROR)', async () => {
    const first = await t.http.get('/v1/leads?limit=1', { token: team.accessToken });
    const cursor = first.body.meta.nextCursor as string;
    for (const path of ['/v1/security-events', '/v1/audit-log', '/v1/leads?sort=createdAt', '/v1/clients']) {
      const res = await t.http.get(`${path}${path.includes('?') ? '&' : '?'}cursor=${cursor}`, {
        token: team.accessToken,
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
  });
});
