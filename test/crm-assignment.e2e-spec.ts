import { STRONG_PASSWORD, type SignedIn, loginOk, registerTeam, uniqueEmail } from './helpers/auth';
import { enrolMfa } from './helpers/mfa';
import { type TestApp, startTestApp } from './helpers/test-app';

const RESOURCES: Array<[string, Record<string, unknown>]> = [
  ['clients', { firstName: 'Asa', lastName: 'Signed' }],
  ['leads', { firstName: 'Lee', lastName: 'Lead' }],
  ['appointments', { title: 'Viewing', startsAt: '2031-01-02T10:00:00Z' }],
  ['escrows', { propertyAddress: '1 Escrow Way' }],
  ['listings', { address: '2 Listing Lane' }],
];

/**
 * assignedTo on every CRM resource: defaults to the creating user (null for an API key), can be set on POST and
 * PATCH to an enabled user of the team only (a disabled, unknown or other team's user is 404 naming the field;
 * a malformed id 400), and filters lists with me | none | <id> (me is 400 for an API key).
 */
describe('CRM assignment', () => {
  let t: TestApp;
  let admin: SignedIn;
  let agent: SignedIn;
  let disabledUser: { id: string };
  let otherTeam: SignedIn;
  let apiKey: string;

  const addUser = async (role: 'admin' | 'agent' | 'viewer'): Promise<SignedIn> => {
    const email = uniqueEmail(role);
    const res = await t.http.post(
      '/v1/users',
      { email, password: STRONG_PASSWORD, firstName: 'New', lastName: role, role },
      { token: admin.accessToken },
    );
    if (res.status !== 201) throw new Error(`add ${role}: ${res.status} ${res.text}`);
    return loginOk(t, email, STRONG_PASSWORD);
  };

  beforeAll(async () => {
    t = await startTestApp({ env: { REQUIRE_MFA_FOR_ADMIN_ACTIONS: 'false' } });
    admin = await registerTeam(t, { teamName: 'Assign A' });
    otherTeam = await registerTeam(t, { teamName: 'Assign B' });
    agent = await addUser('agent');
    const victim = await addUser('agent');
    disabledUser = { id: victim.userId };
    const off = await t.http.patch(`/v1/users/${victim.userId}`, { disabled: true }, { token: admin.accessToken });
    expect(off.status).toBe(200);
    const { backupCodes } = await enrolMfa(t, admin.accessToken);
    const key = await t.http.post(
      '/v1/api-keys',
      { name: 'assign', scopes: ['*:*'], otp: backupCodes[0] },
      { token: admin.accessToken },
    );
    expect(key.status).toBe(201);
    apiKey = key.body.data.key;
  });
  afterAll(() => t?.close());

  it.each(RESOURCES)(
    '%s: defaults to the creating user, null for an API key; settable on POST and PATCH',
    async (r, body) => {
      const mine = await t.http.post(`/v1/${r}`, body, { token: agent.accessToken });
      expect(mine.status).toBe(201);
      expect(mine.body.data).toMatchObject({ assignedTo: agent.userId, version: 1 });

      const byKey = await t.http.post(`/v1/${r}`, body, { apiKey });
      expect(byKey.status).toBe(201);
      expect(byKey.body.data.assignedTo).toBeNull();

      const given = await t.http.post(`/v1/${r}`, { ...body, assignedTo: agent.userId }, { token: admin.accessToken });
      expect(given.status).toBe(201);
      expect(given.body.data.assignedTo).toBe(agent.userId);
      const unassigned = await t.http.post(`/v1/${r}`, { ...body, assignedTo: null }, { token: admin.accessToken });
      expect(unassigned.body.data.assignedTo).toBeNull();

      const patched = await t.http.patch(`/v1/${r}/${byKey.body.data.id}`, { assignedTo: admin.userId }, { apiKey });
      expect(patched.status).toBe(200);
      expect(patched.body.data).toMatchObject({ assignedTo: admin.userId, version: 2 });
      const cleared = await t.http.patch(`/v1/${r}/${byKey.body.data.id}`, { assignedTo: null }, { apiKey });
      expect(cleared.body.data).toMatchObject({ assignedTo: null, version: 3 });
    },
  );

  it.each(RESOURCES)(
    '%s: a disabled, unknown or other team user is 404 naming assignedTo; a malformed id is 400; nothing is written',
    async (r, body) => {
      const [{ n: before }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM ${r}`);
      const target = (await t.http.post(`/v1/${r}`, body, { token: admin.accessToken })).body.data;
      for (const assignedTo of [disabledUser.id, otherTeam.userId, '00000000-0000-4000-8000-000000000000']) {
        for (const res of [
          await t.http.post(`/v1/${r}`, { ...body, assignedTo }, { token: admin.accessToken }),
          await t.http.post(`/v1/${r}`, { ...body, assignedTo }, { apiKey }),
          await t.http.patch(`/v1/${r}/${target.id}`, { assignedTo }, { token: admin.accessToken }),
        ]) {
          expect(res.status).toBe(404);
          expect(res.body.error.code).toBe('NOT_FOUND');
          expect(res.body.error.details).toEqual([{ field: 'assignedTo', errors: [expect.any(String)] }]);
        }
      }
      for (const assignedTo of ['me', 'not-a-uuid', 42, `${agent.userId}x`]) {
        const res = await t.http.post(`/v1/${r}`, { ...body, assignedTo }, { token: admin.accessToken });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('VALIDATION_ERROR');
        expect((await t.http.patch(`/v1/${r}/${target.id}`, { assignedTo }, { token: admin.accessToken })).status).toBe(
          400,
        );
      }
      const [{ n: after }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM ${r}`);
      expect(after).toBe(before + 1);
      const got = await t.http.get(`/v1/${r}/${target.id}`, { token: admin.accessToken });
      expect(got.body.data).toMatchObject({ assignedTo: admin.userId, version: 1 });
    },
  );

  it('list filter assignedTo=me|none|<id>; me is 400 for an API key; a bad value is 400', async () => {
    const mk = (token: string | undefined, assignedTo?: string | null) =>
      t.http.post(
        '/v1/listings',
        { address: `Filter ${Math.random()}`, ...(assignedTo !== undefined ? { assignedTo } : {}) },
        token ? { token } : { apiKey },
      );
    const a = (await mk(agent.accessToken)).body.data;
    const b = (await mk(admin.accessToken)).body.data;
    const c = (await mk(undefined)).body.data;
    const ids = (res: { body: { data: Array<{ id: string; assignedTo: string | null }> } }) =>
      res.body.data.map((x) => x.id);

    const me = await t.http.get('/v1/listings?assignedTo=me&limit=100', { token: agent.accessToken });
    expect(me.status).toBe(200);
    expect(ids(me)).toContain(a.id);
    expect(me.body.data.every((x: { assignedTo: string }) => x.assignedTo === agent.userId)).toBe(true);

    const none = await t.http.get('/v1/listings?assignedTo=none&limit=100', { token: admin.accessToken });
    expect(ids(none)).toContain(c.id);
    expect(none.body.data.every((x: { assignedTo: string | null }) => x.assignedTo === null)).toBe(true);

    const byId = await t.http.get(`/v1/listings?assignedTo=${admin.userId}&limit=100`, { apiKey });
    expect(ids(byId)).toContain(b.id);
    expect(ids(byId)).not.toContain(a.id);
    expect(byId.body.data.every((x: { assignedTo: string }) => x.assignedTo === admin.userId)).toBe(true);

    const total = await t.http.get('/v1/listings?assignedTo=me&includeTotal=true', { token: agent.accessToken });
    expect(total.body.meta.total).toBe(me.body.data.length);

    const keyMe = await t.http.get('/v1/listings?assignedTo=me', { apiKey });
    expect(keyMe.status).toBe(400);
    expect(keyMe.body.error.details).toEqual([{ field: 'assignedTo', errors: [expect.any(String)] }]);
    expect((await t.http.get('/v1/listings/export?assignedTo=me', { apiKey })).status).toBe(400);
    for (const bad of ['someone', 'ME', 'None', '', 'me,none', `${admin.userId}'--`])
      expect((await t.http.get(`/v1/listings?assignedTo=${encodeURIComponent(bad)}`, { apiKey })).status).toBe(400);

    // Export takes the filter too.
    const csv = await t.http.get(`/v1/listings/export?assignedTo=none`, { token: admin.accessToken });
    expect(csv.status).toBe(200);
    expect(csv.text).toContain(c.id);
    expect(csv.text).not.toContain(a.id);
  });

  it('a converted lead gives its client the same assignee; audit rows carry assignedTo', async () => {
    const lead = (
      await t.http.post('/v1/leads', { firstName: 'Con', lastName: 'Vert', assignedTo: agent.userId }, { apiKey })
    ).body.data;
    const client = await t.http.post(`/v1/leads/${lead.id}/convert`, undefined, { token: admin.accessToken });
    expect(client.status).toBe(201);
    expect(client.body.data.assignedTo).toBe(agent.userId);
    const [row] = await t.dataSource.query(
      `SELECT new_values FROM audit_log WHERE resource_type = 'client' AND resource_id = $1 AND action = 'CREATE'`,
      [client.body.data.id],
    );
    expect(row.new_values).toMatchObject({ assignedTo: agent.userId, version: 1 });
  });
});
