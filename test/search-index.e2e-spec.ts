import { TeamScope } from '../src/database/team-scope';
import { type SignedIn, STRONG_PASSWORD, loginOk, registerTeam, uniqueEmail } from './helpers/auth';
import { type TestApp, startTestApp } from './helpers/test-app';

/**
 * `q` under row-level security (migration 1733300004000): the trigram index is reached through
 * crm_search_ids(), evaluated while planning; a rare term becomes primary-key lookups, a common one walks the
 * created_at index. The results must be exactly what the plain substring search selects (same rows, same order,
 * cursors), whatever the term; the function must not widen what a caller sees (another team, assigned
 * visibility, trash).
 */
describe('search: trigram index under row-level security', () => {
  let t: TestApp;
  let admin: SignedIn;
  let agent: SignedIn;
  let other: SignedIn;

  // 1,200 rows: "smith" on 600 (above the fence's cap of 500: common), "quill" on 3, "%" and "_" in a few.
  const seed = async (teamId: string, createdBy: string) => {
    await t.dataSource.query(
      `INSERT INTO clients (team_id, first_name, last_name, email, address, created_by, assigned_to, created_at, updated_at)
       SELECT $1, 'Person', CASE WHEN g % 2 = 0 THEN 'Smith ' || g WHEN g IN (7, 555, 1111) THEN 'Quill ' || g ELSE 'Other ' || g END,
              'p' || g || '@example.com', CASE WHEN g % 97 = 0 THEN '10% off_road ' || g ELSE g || ' Road' END,
              $2, $2, now() - make_interval(secs => g % 400), now()
         FROM generate_series(1, 1200) AS g`,
      [teamId, createdBy],
    );
    await t.dataSource.query('ANALYZE clients');
  };

  /** Every page through the API, following the cursor. */
  const listAll = async (who: SignedIn, query: string, limit = 50) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.http.get(
        `/v1/clients?limit=${limit}&${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token: who.accessToken },
      );
      expect(res.status).toBe(200);
      ids.push(...(res.body.data as Array<{ id: string }>).map((r) => r.id));
      cursor = res.body.meta.nextCursor as string | null;
    } while (cursor);
    return ids;
  };

  /** The reference: the plain substring search as the owner (no policy, no fence), same order. */
  const expected = async (teamId: string, q: string, order = 'created_at DESC, id DESC', extra = '') =>
    (
      await t.dataSource.query<Array<{ id: string }>>(
        `SELECT id FROM clients WHERE team_id = $1 AND deleted_at IS NULL AND search ILIKE $2 ${extra} ORDER BY ${order}`,
        [teamId, `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`],
      )
    ).map((r) => r.id);

  beforeAll(async () => {
    t = await startTestApp({ env: { REQUIRE_MFA_FOR_ADMIN_ACTIONS: 'false' } });
    admin = await registerTeam(t, { teamName: 'Searchers' });
    other = await registerTeam(t, { teamName: 'Elsewhere' });
    const email = uniqueEmail('agent');
    const added = await t.http.post(
      '/v1/users',
      { email, password: STRONG_PASSWORD, firstName: 'Search', lastName: 'Agent', role: 'agent' },
      { token: admin.accessToken },
    );
    expect(added.status).toBe(201);
    agent = await loginOk(t, email, STRONG_PASSWORD);
    await seed(admin.teamId, admin.userId);
    await seed(other.teamId, other.userId);
  });
  afterAll(() => t.close());

  it('common, rare, no-match, short and wildcard terms return exactly the substring matches, in order, across pages', async () => {
    for (const q of ['smith', 'quill', 'QUILL 555', 'zqxjv', 'sm', 'q', '%', '_', '10% off_', 'p7@example', 'road']) {
      const want = await expected(admin.teamId, q);
      expect({ q, ids: await listAll(admin, `q=${encodeURIComponent(q)}`) }).toEqual({ q, ids: want });
    }
    expect((await expected(admin.teamId, 'smith')).length).toBe(600);
    expect((await expected(admin.teamId, 'quill')).length).toBe(3);
  });

  it('other sorts and filters keep their order and the search', async () => {
    const sorted = await listAll(admin, 'q=quill&sort=lastName', 2);
    expect(sorted).toEqual(await expected(admin.teamId, 'quill', 'last_name ASC, id ASC'));
    const newest = await listAll(admin, 'q=smith&sort=-updatedAt&status=active', 100);
    expect(newest).toEqual(await expected(admin.teamId, 'smith', 'updated_at DESC, id DESC', `AND status = 'active'`));
  });

  it('a rare term is primary-key lookups, a common one walks the created_at index (plan under the policies)', async () => {
    const scope = t.app.get(TeamScope);
    const plan = async (q: string) => {
      const pattern = `%${q}%`;
      const rows = await scope.rows<{ 'QUERY PLAN': string }>(
        { teamId: admin.teamId, userId: admin.userId, role: 'admin' },
        {
          sql: `EXPLAIN SELECT id FROM clients WHERE team_id = $1 AND deleted_at IS NULL AND search LIKE lower($2)
                  AND (crm_search_ids('clients', $1::uuid, lower($2)) IS NULL OR id = ANY (crm_search_ids('clients', $1::uuid, lower($2))))
                ORDER BY created_at DESC, id DESC LIMIT 51`,
          params: [admin.teamId, pattern],
        },
      );
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    };
    const rare = await plan('quill');
    expect(rare).toMatch(/id = ANY \('\{[0-9a-f-]+,[0-9a-f-]+,[0-9a-f-]+\}'::uuid\[\]\)/);
    expect(rare).not.toContain('clients_team_created_idx');
    const common = await plan('smith');
    expect(common).toContain('Index Scan using clients_team_created_idx');
    expect(common).not.toMatch(/\bSort\b/);
    expect(common).not.toContain('crm_search_ids');
    expect(await plan('zqxjv')).toMatch(/id = ANY \('\{\}'::uuid\[\]\)/);
  });

  it('the fence never widens what a caller sees: other team, assigned visibility, trash', async () => {
    // Another team's ids are not returned, and the function refuses a team that is not the transaction's.
    const theirs = await listAll(other, 'q=quill');
    expect(theirs).toEqual(await expected(other.teamId, 'quill'));
    const ours = await listAll(admin, 'q=quill');
    expect(ours).toHaveLength(3);
    expect(theirs.some((id) => ours.includes(id))).toBe(false);
    const scope = t.app.get(TeamScope);
    await expect(
      scope.rows(
        { teamId: other.teamId, userId: other.userId, role: 'admin' },
        { sql: `SELECT crm_search_ids('clients', $1::uuid, '%quill%') AS ids`, params: [admin.teamId] },
      ),
    ).rejects.toThrow(/not the transaction's team/);
    await expect(
      scope.rows(
        { teamId: admin.teamId, userId: admin.userId, role: 'admin' },
        { sql: `SELECT crm_search_ids('users', $1::uuid, '%a%') AS ids`, params: [admin.teamId] },
      ),
    ).rejects.toThrow(/has no search index/);

    // Assigned visibility: the agent owns one "quill" row; the fence knows all three, the policy shows one.
    await t.dataSource.query(`UPDATE clients SET assigned_to = $1 WHERE team_id = $2 AND last_name = 'Quill 555'`, [
      agent.userId,
      admin.teamId,
    ]);
    const [mine] = await t.dataSource.query<Array<{ id: string }>>(
      `SELECT id FROM clients WHERE team_id = $1 AND last_name = 'Quill 555'`,
      [admin.teamId],
    );
    const visibility = await t.http.patch('/v1/team', { agentVisibility: 'assigned' }, { token: admin.accessToken });
    expect(visibility.status).toBe(200);
    expect(await listAll(agent, 'q=quill')).toEqual([mine!.id]);
    expect(await listAll(agent, 'q=zqxjv')).toEqual([]);
    await t.http.patch('/v1/team', { agentVisibility: 'team' }, { token: admin.accessToken });

    // Trash: a deleted match is gone from the search.
    const before = await listAll(admin, 'q=quill');
    const removed = await t.http.delete(`/v1/clients/${before[0]}`, { token: admin.accessToken });
    expect([200, 204]).toContain(removed.status);
    expect(await listAll(admin, 'q=quill')).toEqual(before.slice(1));
  });

  it('a row written a moment ago is found at once by a rare and by a common term', async () => {
    const created = await t.http.post(
      '/v1/clients',
      { firstName: 'Fresh', lastName: 'Zebulon-Smith' },
      { token: admin.accessToken },
    );
    expect(created.status).toBe(201);
    expect(await listAll(admin, 'q=zebulon')).toEqual([created.body.data.id]);
    const page = await t.http.get('/v1/clients?limit=5&q=smith', { token: admin.accessToken });
    expect(page.body.data[0].id).toBe(created.body.data.id);
  });
});
