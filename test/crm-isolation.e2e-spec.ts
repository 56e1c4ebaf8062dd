import { registerTeam } from './helpers/auth';
import { enrolMfa } from './helpers/mfa';
import { CRM_CASES, type Refs, createRefs, listAll } from './helpers/crm-cases';
import { parseCsv } from './helpers/csv';
import { type TestApp, startTestApp } from './helpers/test-app';

/**
 * Team isolation over HTTP: team B, signed in as its admin, uses team A's ids on every route and method of
 * every resource (and of users and the audit log) and gets 404 — and the database shows nothing changed.
 * Referenced ids of another team in bodies are 404 too.
 */
describe("team isolation: another team's ids are 404 everywhere and change nothing", () => {
  let t: TestApp;
  let a: { token: string; teamId: string; userId: string; refs: Refs };
  let b: { token: string; teamId: string; userId: string; refs: Refs };
  /** Team A's row of each resource. */
  const aRows: Record<string, string> = {};

  const snapshot = async () => {
    const rows: Record<string, unknown> = {};
    for (const c of CRM_CASES)
      rows[c.resource] = await t.dataSource.query(`SELECT * FROM ${c.resource} WHERE team_id = $1 ORDER BY id`, [
        a.teamId,
      ]);
    rows.users = await t.dataSource.query(
      `SELECT id, role, disabled, updated_at FROM users WHERE team_id = $1 ORDER BY id`,
      [a.teamId],
    );
    rows.audit = await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_log WHERE team_id = $1`, [a.teamId]);
    return rows;
  };

  beforeAll(async () => {
    t = await startTestApp();
    const teamA = await registerTeam(t);
    const teamB = await registerTeam(t);
    // Team B's admin manages users, which needs 2FA: the 404s below must not be 403 MFA_ENROLLMENT_REQUIRED.
    await enrolMfa(t, teamB.accessToken);
    a = {
      token: teamA.accessToken,
      teamId: teamA.teamId,
      userId: teamA.userId,
      refs: await createRefs(t, teamA.accessToken),
    };
    b = {
      token: teamB.accessToken,
      teamId: teamB.teamId,
      userId: teamB.userId,
      refs: await createRefs(t, teamB.accessToken),
    };
    for (const c of CRM_CASES) {
      const res = await t.http.post(`/v1/${c.resource}`, c.full(a.refs), { token: a.token });
      expect(res.status).toBe(201);
      aRows[c.resource] = res.body.data.id;
      expect((await t.http.post(`/v1/${c.resource}`, c.full(b.refs), { token: b.token })).status).toBe(201);
    }
  });
  afterAll(() => t.close());

  it.each(CRM_CASES.map((c) => [c.resource, c] as const))(
    '%s: GET, PATCH, DELETE of team A ids are 404 for team B; lists and exports never show them',
    async (resource, c) => {
      const before = await snapshot();
      const id = aRows[resource];
      const attempts = [
        await t.http.get(`/v1/${resource}/${id}`, { token: b.token }),
        await t.http.patch(`/v1/${resource}/${id}`, c.patch(b.refs), { token: b.token }),
        await t.http.delete(`/v1/${resource}/${id}`, { token: b.token }),
      ];
      if (resource === 'leads')
        attempts.push(await t.http.post(`/v1/leads/${id}/convert`, undefined, { token: b.token }));
      for (const res of attempts) {
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('NOT_FOUND');
        expect(res.text).not.toContain(id);
      }
      const listed = await listAll(t, b.token, `/v1/${resource}`);
      expect(listed.map((r) => r.id)).not.toContain(id);
      expect(listed.length).toBeGreaterThan(0);
      const exported = await t.http.get(`/v1/${resource}/export`, { token: b.token });
      expect(parseCsv(exported.text).map((r) => r[0])).not.toContain(id);
      expect(await snapshot()).toEqual(before);
    },
  );

  it('referenced ids (clientId, leadId, listingId) of another team are 404 on create and update, and nothing is written', async () => {
    const before = await snapshot();
    const bRowsBefore = await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_log WHERE team_id = $1`, [
      b.teamId,
    ]);
    const cases: Array<[string, Record<string, unknown>]> = [
      ['/v1/appointments', { title: 'x', startsAt: '2030-01-01T10:00:00Z', clientId: a.refs.clientId }],
      ['/v1/appointments', { title: 'x', startsAt: '2030-01-01T10:00:00Z', leadId: a.refs.leadId }],
      ['/v1/escrows', { propertyAddress: 'x', clientId: a.refs.clientId }],
      ['/v1/escrows', { propertyAddress: 'x', listingId: a.refs.listingId }],
      [
        '/v1/appointments',
        { title: 'x', startsAt: '2030-01-01T10:00:00Z', clientId: '00000000-0000-4000-8000-000000000000' },
      ],
    ];
    for (const [path, body] of cases) {
      const res = await t.http.post(path, body, { token: b.token });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    const appt = (
      await t.http.post(
        '/v1/appointments',
        { title: 'mine', startsAt: '2030-01-01T10:00:00Z', clientId: b.refs.clientId },
        { token: b.token },
      )
    ).body.data;
    const escrow = (
      await t.http.post('/v1/escrows', { propertyAddress: 'mine', listingId: b.refs.listingId }, { token: b.token })
    ).body.data;
    for (const [path, body] of [
      [`/v1/appointments/${appt.id}`, { clientId: a.refs.clientId }],
      [`/v1/appointments/${appt.id}`, { leadId: a.refs.leadId }],
      [`/v1/escrows/${escrow.id}`, { listingId: a.refs.listingId }],
      [`/v1/escrows/${escrow.id}`, { clientId: a.refs.clientId }],
    ] as const) {
      const res = await t.http.patch(path, body, { token: b.token });
      expect(res.status).toBe(404);
    }
    expect((await t.http.get(`/v1/appointments/${appt.id}`, { token: b.token })).body.data.clientId).toBe(
      b.refs.clientId,
    );
    expect((await t.http.get(`/v1/escrows/${escrow.id}`, { token: b.token })).body.data.listingId).toBe(
      b.refs.listingId,
    );
    // Filters with another team's id simply match nothing.
    expect(await listAll(t, b.token, '/v1/appointments', `clientId=${a.refs.clientId}`)).toEqual([]);
    expect(await snapshot()).toEqual(before);
    // Only the two successful creates were audited for team B.
    const bRowsAfter = await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_log WHERE team_id = $1`, [
      b.teamId,
    ]);
    expect(bRowsAfter[0].n - bRowsBefore[0].n).toBe(2);
  });

  it("users and the audit log: team A's user ids are 404 for team B's admin; B never sees A's entries", async () => {
    const before = await snapshot();
    for (const res of [
      await t.http.get(`/v1/users/${a.userId}`, { token: b.token }),
      await t.http.patch(`/v1/users/${a.userId}`, { role: 'viewer' }, { token: b.token }),
      await t.http.patch(`/v1/users/${a.userId}`, { disabled: true }, { token: b.token }),
      await t.http.delete(`/v1/users/${a.userId}`, { token: b.token }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    const users = await t.http.get('/v1/users', { token: b.token });
    expect(users.body.data.map((u: { id: string }) => u.id)).toEqual([b.userId]);
    const audit = await t.http.get(`/v1/audit-log?resourceId=${aRows.clients}`, { token: b.token });
    expect(audit.status).toBe(200);
    expect(audit.body.data).toEqual([]);
    const everything = await listAll(t, b.token, '/v1/audit-log');
    expect(everything.length).toBeGreaterThan(0);
    expect(everything.every((e) => e.userId === b.userId)).toBe(true);
    expect(await snapshot()).toEqual(before);
  });
});
