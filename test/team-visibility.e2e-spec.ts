import { Client as PgClient } from 'pg';
import { SENSITIVE } from '../src/common/security/decorators';
import { type Actor } from '../src/common/security/principal';
import { TeamScope, actorScope } from '../src/database/team-scope';
import { TeamsController } from '../src/modules/teams/teams.controller';
import { STRONG_PASSWORD, type SignedIn, loginOk, registerTeam, uniqueEmail } from './helpers/auth';
import { type HttpResponse } from './helpers/http';
import { enrolMfa } from './helpers/mfa';
import { type TestApp, startTestApp } from './helpers/test-app';

/**
 * GET/PATCH /v1/team and agentVisibility. Under 'assigned', agents and viewers see, list, export, change and
 * delete only the records assigned to them; everything else is 404 to them. The rule lives in the database
 * (row-level security on app.role / app.user_id): a query with no assignee filter at all, run through TeamScope
 * with an agent's scope, returns only the agent's rows.
 */
describe('team and agent visibility', () => {
  let t: TestApp;
  let admin: SignedIn;
  let agentA: SignedIn;
  let agentB: SignedIn;
  let viewer: SignedIn;
  let apiKey: string;
  const recA: Record<string, string> = {};
  const recB: Record<string, string> = {};
  let unassigned: string;

  const addUser = async (role: 'admin' | 'agent' | 'viewer'): Promise<SignedIn> => {
    const email = uniqueEmail(role);
    const res = await t.http.post(
      '/v1/users',
      { email, password: STRONG_PASSWORD, firstName: 'Vis', lastName: role, role },
      { token: admin.accessToken },
    );
    if (res.status !== 201) throw new Error(`add ${role}: ${res.status} ${res.text}`);
    return loginOk(t, email, STRONG_PASSWORD);
  };
  const setVisibility = async (agentVisibility: 'team' | 'assigned') => {
    const res = await t.http.patch('/v1/team', { agentVisibility }, { token: admin.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.data.agentVisibility).toBe(agentVisibility);
  };
  const actorOf = (who: SignedIn, role: 'admin' | 'agent' | 'viewer'): Actor => ({
    principal: {
      kind: 'user',
      userId: who.userId,
      teamId: who.teamId,
      role,
      email: who.email,
      sessionId: '00000000-0000-4000-8000-000000000000',
      authTime: Date.now(),
      mfaEnabled: false,
    },
    ip: '127.0.0.1',
    userAgent: 'visibility-e2e',
  });
  const ids = (res: { body: { data: Array<{ id: string }> } }) => res.body.data.map((r) => r.id);

  beforeAll(async () => {
    t = await startTestApp({ env: { REQUIRE_MFA_FOR_ADMIN_ACTIONS: 'false' } });
    admin = await registerTeam(t, { teamName: 'Visible' });
    agentA = await addUser('agent');
    agentB = await addUser('agent');
    viewer = await addUser('viewer');
    const { backupCodes } = await enrolMfa(t, admin.accessToken);
    const key = await t.http.post(
      '/v1/api-keys',
      { name: 'vis', scopes: ['*:*'], otp: backupCodes[0] },
      { token: admin.accessToken },
    );
    apiKey = key.body.data.key;
    for (const [owner, into] of [
      [agentA, recA],
      [agentB, recB],
    ] as const) {
      into.client = (
        await t.http.post('/v1/clients', { firstName: 'Of', lastName: owner.userId }, { token: owner.accessToken })
      ).body.data.id;
      into.listing = (
        await t.http.post('/v1/listings', { address: `Street of ${owner.userId}` }, { token: owner.accessToken })
      ).body.data.id;
    }
    unassigned = (await t.http.post('/v1/clients', { firstName: 'No', lastName: 'One' }, { apiKey })).body.data.id;
  });
  afterAll(() => t?.close());

  it('GET /v1/team for any member or key; PATCH is admin-only (users only, fresh auth), validated and audited', async () => {
    for (const opts of [
      { token: admin.accessToken },
      { token: agentA.accessToken },
      { token: viewer.accessToken },
      { apiKey },
    ]) {
      const res = await t.http.get('/v1/team', opts);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({
        id: admin.teamId,
        name: 'Visible',
        agentVisibility: 'team',
        createdAt: expect.any(String),
      });
    }
    expect((await t.http.patch('/v1/team', { name: 'Mine' }, { token: agentA.accessToken })).status).toBe(403);
    expect((await t.http.patch('/v1/team', { name: 'Mine' }, { apiKey })).status).toBe(403);
    expect((await t.http.patch('/v1/team', { name: 'Mine' })).status).toBe(401);
    for (const body of [
      {},
      { agentVisibility: 'nobody' },
      { name: '' },
      { name: 'x'.repeat(201) },
      { id: admin.teamId },
    ])
      expect((await t.http.patch('/v1/team', body, { token: admin.accessToken })).status).toBe(400);
    // Step-up is declared (its 401 REAUTH_REQUIRED path is the guard's own test).
    expect(
      Reflect.getMetadata(
        SENSITIVE,
        Object.getOwnPropertyDescriptor(TeamsController.prototype, 'update')!.value as object,
      ),
    ).toBe('account');

    const renamed = await t.http.patch('/v1/team', { name: '  Visible  ' }, { token: admin.accessToken });
    expect(renamed.status).toBe(200);
    expect(renamed.body.data.name).toBe('Visible');
    const renamed2 = await t.http.patch('/v1/team', { name: 'Visible Team' }, { token: admin.accessToken });
    expect(renamed2.body.data).toMatchObject({ name: 'Visible Team', agentVisibility: 'team' });
    const rows = await t.dataSource.query(
      `SELECT action, user_id, old_values, new_values FROM audit_log WHERE resource_type = 'team' AND resource_id = $1 ORDER BY seq`,
      [admin.teamId],
    );
    // The unchanged name (trimmed to the same value) wrote nothing.
    expect(rows).toEqual([
      {
        action: 'UPDATE',
        user_id: admin.userId,
        old_values: { name: 'Visible' },
        new_values: { name: 'Visible Team' },
      },
    ]);
  });

  it("under 'assigned' an agent sees, lists, exports, changes and deletes only its own records", async () => {
    await setVisibility('assigned');
    try {
      const list = await t.http.get('/v1/clients?limit=100', { token: agentA.accessToken });
      expect(list.status).toBe(200);
      expect(ids(list)).toEqual([recA.client]);
      expect((await t.http.get('/v1/clients?includeTotal=true', { token: agentA.accessToken })).body.meta.total).toBe(
        1,
      );
      // Asking for a colleague's records explicitly changes nothing.
      expect(ids(await t.http.get(`/v1/clients?assignedTo=${agentB.userId}`, { token: agentA.accessToken }))).toEqual(
        [],
      );
      expect(ids(await t.http.get(`/v1/clients?assignedTo=none`, { token: agentA.accessToken }))).toEqual([]);

      for (const id of [recB.client, unassigned]) {
        for (const res of [
          await t.http.get(`/v1/clients/${id}`, { token: agentA.accessToken }),
          await t.http.get(`/v1/clients/${id}`, { token: viewer.accessToken }),
          await t.http.patch(`/v1/clients/${id}`, { notes: 'taken' }, { token: agentA.accessToken }),
          await t.http.delete(`/v1/clients/${id}`, { token: agentA.accessToken }),
          await t.http.post(`/v1/clients/${id}/restore`, undefined, { token: agentA.accessToken }),
        ]) {
          expect(res.status).toBe(404);
          expect(res.body.error.code).toBe('NOT_FOUND');
        }
      }
      const csv = await t.http.get('/v1/clients/export', { token: agentA.accessToken });
      expect(csv.status).toBe(200);
      expect(csv.text).toContain(recA.client);
      expect(csv.text).not.toContain(recB.client);
      expect(csv.text).not.toContain(unassigned);
      // A colleague's client cannot be linked either.
      const linked = await t.http.post(
        '/v1/appointments',
        { title: 'x', startsAt: '2031-01-01T10:00:00Z', clientId: recB.client },
        { token: agentA.accessToken },
      );
      expect(linked.status).toBe(404);

      // The viewer has nothing assigned: it sees nothing.
      expect(ids(await t.http.get('/v1/clients', { token: viewer.accessToken }))).toEqual([]);
      // Admins and API keys see everything.
      for (const opts of [{ token: admin.accessToken }, { apiKey }]) {
        const all = ids(await t.http.get('/v1/clients?limit=100', opts));
        expect(all).toEqual(expect.arrayContaining([recA.client, recB.client, unassigned]));
        expect((await t.http.get(`/v1/clients/${recB.client}`, opts)).status).toBe(200);
      }

      // Its own record: readable and changeable, but not given away (it would vanish from its owner's view).
      const own = await t.http.patch(`/v1/clients/${recA.client}`, { notes: 'mine' }, { token: agentA.accessToken });
      expect(own.status).toBe(200);
      const away = await t.http.patch(
        `/v1/clients/${recA.client}`,
        { assignedTo: agentB.userId },
        { token: agentA.accessToken },
      );
      expect(away.status).toBe(403);
      const born = await t.http.post(
        '/v1/clients',
        { firstName: 'Gift', lastName: 'ForB', assignedTo: agentB.userId },
        { token: agentA.accessToken },
      );
      expect(born.status).toBe(403);
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM clients WHERE last_name = 'ForB'`);
      expect(n).toBe(0);
      const still = await t.http.get(`/v1/clients/${recA.client}`, { token: agentA.accessToken });
      expect(still.body.data).toMatchObject({ assignedTo: agentA.userId, notes: 'mine' });
    } finally {
      await setVisibility('team');
    }
    // Back to 'team': the colleague's record is visible again.
    expect((await t.http.get(`/v1/clients/${recB.client}`, { token: agentA.accessToken })).status).toBe(200);
  });

  it('RLS does it: a raw count with no assignee filter through TeamScope returns only the agent\u2019s rows', async () => {
    const scope = t.app.get(TeamScope);
    const count = async (s: Parameters<TeamScope['rows']>[0], table = 'clients') =>
      (await scope.rows<{ n: number }>(s, { sql: `SELECT count(*)::int AS n FROM ${table}`, params: [] }))[0]!.n;
    const [{ n: teamClients }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM clients WHERE team_id = $1 AND deleted_at IS NULL`,
      [admin.teamId],
    );
    expect(teamClients).toBeGreaterThanOrEqual(3);
    const mine = async () =>
      Number(
        (
          await t.dataSource.query(
            `SELECT count(*)::int AS n FROM clients WHERE team_id = $1 AND assigned_to = $2 AND deleted_at IS NULL`,
            [admin.teamId, agentA.userId],
          )
        )[0].n,
      );

    await setVisibility('assigned');
    try {
      expect(await count(actorScope(actorOf(agentA, 'agent')))).toBe(await mine());
      expect(await count(actorScope(actorOf(agentA, 'agent')), 'listings')).toBe(1);
      expect(await count(actorScope(actorOf(viewer, 'viewer')))).toBe(0);
      expect(await count(actorScope(actorOf(admin, 'admin')))).toBe(teamClients);
      expect(await count({ teamId: admin.teamId, role: 'api_key' })).toBe(teamClients);
      expect(await count({ teamId: admin.teamId, role: 'system' })).toBe(teamClients);
      // A bare team id carries no role: it fails closed instead of seeing a colleague's records.
      expect(await count(admin.teamId)).toBe(0);
      // Even a statement that only asks for B's row, by id, gets nothing as A.
      const [row] = await scope.rows(actorScope(actorOf(agentA, 'agent')), {
        sql: `SELECT id FROM clients WHERE id = $1`,
        params: [recB.client],
      });
      expect(row).toBeUndefined();
      // Nor can A's scope change it.
      const changed = await scope.rows(actorScope(actorOf(agentA, 'agent')), {
        sql: `UPDATE clients SET notes = 'hijack' WHERE id = $1 RETURNING id`,
        params: [recB.client],
      });
      expect(changed).toEqual([]);

      // The same through a plain connection: the policies, not the application, decide.
      const pg = new PgClient({ connectionString: t.database.url });
      await pg.connect();
      try {
        await pg.query('BEGIN');
        await pg.query('SET LOCAL ROLE app_tenant');
        await pg.query(
          `SELECT set_config('app.team_id', $1, true), set_config('app.role', 'agent', true), set_config('app.user_id', $2, true)`,
          [admin.teamId, agentA.userId],
        );
        // app.agent_visibility is not set here: crm_visible asks the teams table itself.
        const seen = await pg.query<{ id: string }>(`SELECT id FROM clients`);
        expect(seen.rows.map((r) => r.id).sort()).toEqual(
          (
            await t.dataSource.query(
              `SELECT id FROM clients WHERE team_id = $1 AND assigned_to = $2 AND deleted_at IS NULL`,
              [admin.teamId, agentA.userId],
            )
          )
            .map((r: { id: string }) => r.id)
            .sort(),
        );
        // Setting another user is the only way to see another's rows: the policy keys on app.user_id.
        await pg.query(`SELECT set_config('app.user_id', $1, true)`, [agentB.userId]);
        expect((await pg.query(`SELECT id FROM clients`)).rows.map((r) => r.id)).toEqual([recB.client]);
      } finally {
        await pg.query('ROLLBACK').catch(() => undefined);
        await pg.end();
      }
    } finally {
      await setVisibility('team');
    }
    expect(await count(actorScope(actorOf(agentA, 'agent')))).toBe(teamClients);
    expect(await count(admin.teamId)).toBe(teamClients);
  });

  it("under 'assigned' an agent's list pages (keyset, totals, sorts) over its own records only", async () => {
    for (let i = 0; i < 4; i++)
      await t.http.post('/v1/clients', { firstName: `Page${i}`, lastName: 'A' }, { token: agentA.accessToken });
    await setVisibility('assigned');
    try {
      const [{ n }] = await t.dataSource.query(
        `SELECT count(*)::int AS n FROM clients WHERE team_id = $1 AND assigned_to = $2 AND deleted_at IS NULL`,
        [admin.teamId, agentA.userId],
      );
      for (const sort of ['-createdAt', 'lastName', '-updatedAt']) {
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const res: HttpResponse = await t.http.get(
            `/v1/clients?limit=2&sort=${sort}&includeTotal=true${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
            { token: agentA.accessToken },
          );
          expect(res.status).toBe(200);
          expect(res.body.meta.total).toBe(n);
          expect(res.body.data.every((c: { assignedTo: string }) => c.assignedTo === agentA.userId)).toBe(true);
          seen.push(...ids(res));
          cursor = res.body.meta.nextCursor;
        } while (cursor);
        expect(seen).toHaveLength(n);
        expect(new Set(seen).size).toBe(n);
      }
      const viewerPage = await t.http.get('/v1/clients?includeTotal=true', { token: viewer.accessToken });
      expect(viewerPage.body).toMatchObject({ data: [], meta: { total: 0, nextCursor: null } });
    } finally {
      await setVisibility('team');
    }
  });

  it("flipping visibility while an agent lists: a list started after 'assigned' was answered, and finished before 'team' was asked for, never shows a colleague's record", async () => {
    interface Flip {
      to: 'team' | 'assigned';
      sentAt: number;
      doneAt: number;
    }
    const flips: Flip[] = [];
    const lists: Array<{ start: number; end: number; sawB: boolean }> = [];
    let flipping = true;
    const flipper = (async () => {
      for (let i = 0; i < 16; i++) {
        const to = i % 2 === 0 ? 'assigned' : 'team';
        const sentAt = performance.now();
        const res = await t.http.patch('/v1/team', { agentVisibility: to }, { token: admin.accessToken });
        expect(res.status).toBe(200);
        flips.push({ to, sentAt, doneAt: performance.now() });
        // Let a few lists run under each state.
        await new Promise((r) => setTimeout(r, 40));
      }
      flipping = false;
    })();
    const lister = (async () => {
      while (flipping) {
        const start = performance.now();
        const res = await t.http.get('/v1/clients?limit=100', { token: agentA.accessToken });
        const end = performance.now();
        expect(res.status).toBe(200);
        lists.push({ start, end, sawB: ids(res).includes(recB.client!) });
      }
    })();
    await Promise.all([flipper, lister]);

    // Windows where 'assigned' surely held: from an 'assigned' PATCH's answer to the next PATCH's sending.
    const assignedWindows = flips.flatMap((f, i) =>
      f.to === 'assigned' ? [{ from: f.doneAt, to: flips[i + 1]?.sentAt ?? Infinity }] : [],
    );
    const teamWindows = flips.flatMap((f, i) =>
      f.to === 'team' ? [{ from: f.doneAt, to: flips[i + 1]?.sentAt ?? Infinity }] : [],
    );
    const inside = (l: { start: number; end: number }, w: { from: number; to: number }) =>
      l.start >= w.from && l.end <= w.to;
    const underAssigned = lists.filter((l) => assignedWindows.some((w) => inside(l, w)));
    const underTeam = lists.filter((l) => teamWindows.some((w) => inside(l, w)));
    // Not vacuous: lists ran inside both kinds of window.
    expect(underAssigned.length).toBeGreaterThan(0);
    expect(underTeam.length).toBeGreaterThan(0);
    expect(underAssigned.filter((l) => l.sawB)).toEqual([]);
    expect(underTeam.every((l) => l.sawB)).toBe(true);
    // The last flip was to 'team'.
    expect(ids(await t.http.get('/v1/clients?limit=100', { token: agentA.accessToken }))).toContain(recB.client);
  });
});
