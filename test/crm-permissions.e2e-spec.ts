import { STRONG_PASSWORD, registerTeam } from './helpers/auth';
import { CRM_CASES, type Refs, createRefs } from './helpers/crm-cases';
import { type TestApp, startTestApp } from './helpers/test-app';
import { ManualClock } from '../src/common/time/clock';

/** The window is moved past on the app's clock (a real-time window of seconds ran out under load mid-file). */
const REAUTH_WINDOW_MINUTES = 5;

/**
 * Roles on CRM routes (viewer reads only, agent works the CRM but cannot manage users or read the audit log),
 * each denial a 403 FORBIDDEN with a permission_denied event; and the re-auth window on delete and export.
 */
describe('CRM permissions: roles and re-authentication', () => {
  let t: TestApp;
  let admin: { token: string; teamId: string; email: string; password: string };
  let refs: Refs;
  const clock = new ManualClock();
  const rows: Record<string, string> = {};

  const signIn = async (email: string, password: string): Promise<string> => {
    const res = await t.http.post('/v1/auth/login', { email, password });
    if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${res.text}`);
    return res.body.data.accessToken;
  };
  const addUser = async (role: 'agent' | 'viewer') => {
    const email = `${role}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
    const res = await t.http.post(
      '/v1/users',
      { email, password: STRONG_PASSWORD, firstName: 'Role', lastName: role, role },
      { token: admin.token },
    );
    if (res.status !== 201) throw new Error(`add ${role}: ${res.status} ${res.text}`);
    return { id: res.body.data.id as string, email };
  };
  const denials = async (userId: string) =>
    t.dataSource.query(
      `SELECT details FROM security_events WHERE event_type = 'permission_denied' AND user_id = $1 ORDER BY created_at`,
      [userId],
    );
  const snapshot = async () => {
    const out: Record<string, unknown> = {};
    for (const c of CRM_CASES)
      out[c.resource] = await t.dataSource.query(`SELECT * FROM ${c.resource} WHERE team_id = $1 ORDER BY id`, [
        admin.teamId,
      ]);
    out.users = await t.dataSource.query(`SELECT id, role, disabled FROM users WHERE team_id = $1 ORDER BY id`, [
      admin.teamId,
    ]);
    return out;
  };

  beforeAll(async () => {
    t = await startTestApp({
      env: { REAUTH_WINDOW_MINUTES: String(REAUTH_WINDOW_MINUTES), REQUIRE_MFA_FOR_ADMIN_ACTIONS: 'false' },
      clock,
    });
    const team = await registerTeam(t);
    admin = { token: team.accessToken, teamId: team.teamId, email: team.email, password: team.password };
    refs = await createRefs(t, admin.token);
    for (const c of CRM_CASES)
      rows[c.resource] = (await t.http.post(`/v1/${c.resource}`, c.full(refs), { token: admin.token })).body.data.id;
  });
  afterAll(() => t.close());

  it('a viewer reads everything, and every write, delete or convert is 403 FORBIDDEN with a permission_denied event', async () => {
    const viewer = await addUser('viewer');
    const token = await signIn(viewer.email, STRONG_PASSWORD);
    const before = await snapshot();
    let denied = 0;
    for (const c of CRM_CASES) {
      expect((await t.http.get(`/v1/${c.resource}`, { token })).status).toBe(200);
      expect((await t.http.get(`/v1/${c.resource}/${rows[c.resource]}`, { token })).status).toBe(200);
      for (const res of [
        await t.http.post(`/v1/${c.resource}`, c.minimal(refs), { token }),
        await t.http.patch(`/v1/${c.resource}/${rows[c.resource]}`, c.patch(refs), { token }),
        await t.http.delete(`/v1/${c.resource}/${rows[c.resource]}`, { token }),
      ]) {
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe('FORBIDDEN');
        denied++;
      }
    }
    const convert = await t.http.post(`/v1/leads/${rows.leads}/convert`, undefined, { token });
    expect(convert.status).toBe(403);
    denied++;
    for (const res of [await t.http.get('/v1/users', { token }), await t.http.get('/v1/audit-log', { token })]) {
      expect(res.status).toBe(403);
      denied++;
    }
    const events = await denials(viewer.id);
    expect(events).toHaveLength(denied);
    expect(events[0].details).toMatchObject({ role: 'viewer', required: 'clients:write', path: '/v1/clients' });
    expect(events.map((e: { details: { required: string } }) => e.details.required)).toEqual(
      expect.arrayContaining(['leads:delete', 'users:read', 'audit:read']),
    );
    expect(await snapshot()).toEqual(before);
  });

  it('an agent works the CRM (create, update, delete) but cannot manage users or read the audit log', async () => {
    const agent = await addUser('agent');
    const token = await signIn(agent.email, STRONG_PASSWORD);
    const created = await t.http.post('/v1/clients', { firstName: 'Agent', lastName: 'Made' }, { token });
    expect(created.status).toBe(201);
    expect((await t.http.patch(`/v1/clients/${created.body.data.id}`, { status: 'inactive' }, { token })).status).toBe(
      200,
    );
    expect((await t.http.delete(`/v1/clients/${created.body.data.id}`, { token })).status).toBe(200);

    const before = await snapshot();
    for (const res of [
      await t.http.get('/v1/users', { token }),
      await t.http.post(
        '/v1/users',
        { email: 'x@example.com', password: STRONG_PASSWORD, firstName: 'X', lastName: 'Y', role: 'admin' },
        { token },
      ),
      await t.http.patch(`/v1/users/${agent.id}`, { role: 'admin' }, { token }),
      await t.http.delete(`/v1/users/${agent.id}`, { token }),
      await t.http.get('/v1/audit-log', { token }),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    }
    expect((await denials(agent.id)).map((e: { details: { required: string } }) => e.details.required)).toEqual([
      'users:read',
      'users:write',
      'users:write',
      'users:delete',
      'audit:read',
    ]);
    expect(await snapshot()).toEqual(before);
  });

  it('delete and export need a recent password entry: 401 REAUTH_REQUIRED after the window, fine after POST /v1/auth/reauth', async () => {
    const token = await signIn(admin.email, admin.password);
    const victim = (await t.http.post('/v1/listings', { address: 'Reauth Road' }, { token })).body.data;
    clock.advanceMinutes(REAUTH_WINDOW_MINUTES + 1);

    const stale = [
      await t.http.delete(`/v1/listings/${victim.id}`, { token }),
      await t.http.get('/v1/listings/export', { token }),
    ];
    for (const res of stale) {
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('REAUTH_REQUIRED');
    }
    // Reads and writes are not sensitive.
    expect((await t.http.patch(`/v1/listings/${victim.id}`, { city: 'Still' }, { token })).status).toBe(200);
    expect(await t.dataSource.query(`SELECT 1 FROM listings WHERE id = $1`, [victim.id])).toHaveLength(1);

    const reauth = await t.http.post('/v1/auth/reauth', { password: admin.password }, { token });
    expect(reauth.status).toBe(200);
    const fresh = reauth.body.data.accessToken as string;
    expect((await t.http.delete(`/v1/listings/${victim.id}`, { token: fresh })).status).toBe(200);
    const exported = await t.http.get('/v1/listings/export', { token: fresh });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toMatch(/text\/csv/);
    // Deleted means in the trash.
    expect(
      await t.dataSource.query(`SELECT 1 FROM listings WHERE id = $1 AND deleted_at IS NULL`, [victim.id]),
    ).toHaveLength(0);
  });
});
