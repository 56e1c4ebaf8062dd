import { MFA_ENROLLED, SENSITIVE } from '../src/common/security/decorators';
import { UsersAdminController } from '../src/modules/users-admin/users-admin.controller';
import { STRONG_PASSWORD, type SignedIn, loginOk, registerTeam, uniqueEmail } from './helpers/auth';
import { verifyChains } from './helpers/crm';
import { enrolMfa } from './helpers/mfa';
import { type TestApp, startTestApp } from './helpers/test-app';

const RESOURCES: Array<[string, Record<string, unknown>]> = [
  ['clients', { firstName: 'Hand', lastName: 'Over' }],
  ['leads', { firstName: 'Hand', lastName: 'Over' }],
  ['appointments', { title: 'Hand over', startsAt: '2031-07-01T10:00:00Z' }],
  ['escrows', { propertyAddress: '3 Handover Ave' }],
  ['listings', { address: '4 Handover Ave' }],
];

/**
 * POST /v1/users/:id/reassign moves every live record of a user to another enabled user of the team (or to
 * nobody), each with an UPDATE audit row; DELETE /v1/users/:id?reassignTo= does the same and the removal in one
 * transaction, and without reassignTo the user's records end unassigned, with audit rows (never a silent
 * foreign-key SET NULL).
 */
describe('reassigning a user’s records', () => {
  let t: TestApp;
  let admin: SignedIn;
  let token: string;
  let other: SignedIn;
  let apiKey: string;

  const addUser = async (role: 'admin' | 'agent' | 'viewer', disabled = false): Promise<SignedIn> => {
    const email = uniqueEmail(role);
    const res = await t.http.post(
      '/v1/users',
      { email, password: STRONG_PASSWORD, firstName: 'Re', lastName: role, role },
      { token },
    );
    if (res.status !== 201) throw new Error(`add ${role}: ${res.status} ${res.text}`);
    const signed = await loginOk(t, email, STRONG_PASSWORD);
    if (disabled)
      expect((await t.http.patch(`/v1/users/${signed.userId}`, { disabled: true }, { token })).status).toBe(200);
    return signed;
  };
  /** One record of each resource assigned to `who`, plus a trashed client of theirs. */
  const giveRecords = async (who: SignedIn) => {
    const ids: Record<string, string> = {};
    for (const [r, body] of RESOURCES) {
      const res = await t.http.post(`/v1/${r}`, { ...body, assignedTo: who.userId }, { token });
      expect(res.status).toBe(201);
      ids[r] = res.body.data.id;
    }
    const trashed = (
      await t.http.post('/v1/clients', { firstName: 'In', lastName: 'Trash', assignedTo: who.userId }, { token })
    ).body.data.id;
    expect((await t.http.delete(`/v1/clients/${trashed}`, { token })).status).toBe(200);
    return { ids, trashed };
  };
  const assignee = async (table: string, id: string) =>
    (await t.dataSource.query(`SELECT assigned_to FROM ${table} WHERE id = $1`, [id]))[0]?.assigned_to as
      string | null | undefined;
  const updates = (id: string) =>
    t.dataSource.query<Array<{ old_values: any; new_values: any; user_id: string }>>(
      `SELECT old_values, new_values, user_id FROM audit_log WHERE resource_id = $1 AND action = 'UPDATE' ORDER BY seq`,
      [id],
    );

  beforeAll(async () => {
    t = await startTestApp({ env: { REQUIRE_MFA_FOR_ADMIN_ACTIONS: 'false' } });
    admin = await registerTeam(t, { teamName: 'Handover' });
    token = admin.accessToken;
    other = await registerTeam(t, { teamName: 'Elsewhere' });
    const { backupCodes } = await enrolMfa(t, token);
    apiKey = (await t.http.post('/v1/api-keys', { name: 'k', scopes: ['*:*'], otp: backupCodes[0] }, { token })).body
      .data.key;
  });
  afterAll(() => t?.close());

  it('declares admin-only, users only, MFA enrolment (like every /v1/users route) and a fresh password entry', () => {
    expect(Reflect.getMetadata(MFA_ENROLLED, UsersAdminController)).toBe('admin-actions');
    const handler = Object.getOwnPropertyDescriptor(UsersAdminController.prototype, 'reassign')!.value as object;
    expect(Reflect.getMetadata(SENSITIVE, handler)).toBe('account');
  });

  it('POST /:id/reassign moves every live record to the target with UPDATE audit rows; trashed ones stay', async () => {
    const from = await addUser('agent');
    const to = await addUser('agent');
    const { ids, trashed } = await giveRecords(from);
    const res = await t.http.post(`/v1/users/${from.userId}/reassign`, { toUserId: to.userId }, { token });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ moved: RESOURCES.length });
    for (const [r] of RESOURCES) {
      expect(await assignee(r, ids[r]!)).toBe(to.userId);
      const [u] = await updates(ids[r]!);
      expect(u).toEqual({
        old_values: { assignedTo: from.userId },
        new_values: { assignedTo: to.userId },
        user_id: admin.userId,
      });
      expect((await t.http.get(`/v1/${r}/${ids[r]}`, { token })).body.data.version).toBe(2);
    }
    expect(await assignee('clients', trashed)).toBe(from.userId);
    // Nothing left to move; then back to nobody.
    expect(
      (await t.http.post(`/v1/users/${from.userId}/reassign`, { toUserId: to.userId }, { token })).body.data,
    ).toEqual({
      moved: 0,
    });
    const none = await t.http.post(`/v1/users/${to.userId}/reassign`, { toUserId: null }, { token });
    expect(none.body.data).toEqual({ moved: RESOURCES.length });
    for (const [r] of RESOURCES) expect(await assignee(r, ids[r]!)).toBeNull();
    // A disabled user's records can be handed over (the usual case).
    const leaver = await addUser('agent');
    const mine = (
      await t.http.post('/v1/leads', { firstName: 'L', lastName: 'L', assignedTo: leaver.userId }, { token })
    ).body.data.id;
    await t.http.patch(`/v1/users/${leaver.userId}`, { disabled: true }, { token });
    expect(
      (await t.http.post(`/v1/users/${leaver.userId}/reassign`, { toUserId: to.userId }, { token })).body.data,
    ).toEqual({
      moved: 1,
    });
    expect(await assignee('leads', mine)).toBe(to.userId);
    expect((await verifyChains(t, admin.teamId)).ok).toBe(true);
  });

  it('refuses a disabled, unknown or other team target (404), a bad body (400), another team’s :id (404), non-admins (403)', async () => {
    const from = await addUser('agent');
    const disabled = await addUser('agent', true);
    const agent = await addUser('agent');
    const { ids } = await giveRecords(from);
    const post = (id: string, body: unknown, opts: object = { token }) =>
      t.http.post(`/v1/users/${id}/reassign`, body, opts);

    for (const toUserId of [disabled.userId, other.userId, '00000000-0000-4000-8000-000000000000']) {
      const res = await post(from.userId, { toUserId });
      expect(res.status).toBe(404);
      expect(res.body.error.details).toEqual([{ field: 'toUserId', errors: [expect.any(String)] }]);
    }
    for (const body of [{}, { toUserId: 'nope' }, { toUserId: 7 }, { toUserId: from.userId }, { toUserId: null, x: 1 }])
      expect((await post(from.userId, body)).status).toBe(400);
    expect((await post('not-a-uuid', { toUserId: null })).status).toBe(400);
    expect((await post(other.userId, { toUserId: agent.userId })).status).toBe(404);
    expect((await post('00000000-0000-4000-8000-000000000000', { toUserId: agent.userId })).status).toBe(404);
    // The other team's admin cannot move this team's records.
    expect((await post(from.userId, { toUserId: null }, { token: other.accessToken })).status).toBe(404);
    expect((await post(from.userId, { toUserId: agent.userId }, { token: agent.accessToken })).status).toBe(403);
    expect((await post(from.userId, { toUserId: agent.userId }, { apiKey })).status).toBe(403);
    for (const [r] of RESOURCES) expect(await assignee(r, ids[r]!)).toBe(from.userId);
  });

  it('DELETE /:id?reassignTo= hands over and removes in one transaction; trashed records end unassigned', async () => {
    const leaver = await addUser('agent');
    const heir = await addUser('agent');
    const { ids, trashed } = await giveRecords(leaver);

    // A failure at the very end (the user row refuses to go) rolls the hand-over back too.
    await t.dataSource.query(`
      CREATE FUNCTION test_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused for the test'; END $$`);
    await t.dataSource.query(
      `CREATE TRIGGER test_refuse_delete BEFORE DELETE ON users FOR EACH ROW WHEN (OLD.id = '${leaver.userId}') EXECUTE FUNCTION test_refuse_delete()`,
    );
    try {
      const failed = await t.http.delete(`/v1/users/${leaver.userId}?reassignTo=${heir.userId}`, { token });
      expect(failed.status).toBe(500);
      for (const [r] of RESOURCES) expect(await assignee(r, ids[r]!)).toBe(leaver.userId);
      expect(await assignee('clients', trashed)).toBe(leaver.userId);
      for (const [r] of RESOURCES) expect(await updates(ids[r]!)).toEqual([]);
    } finally {
      await t.dataSource.query(`DROP TRIGGER test_refuse_delete ON users`);
      await t.dataSource.query(`DROP FUNCTION test_refuse_delete()`);
    }

    for (const bad of [`reassignTo=${leaver.userId}`, 'reassignTo=nope'])
      expect((await t.http.delete(`/v1/users/${leaver.userId}?${bad}`, { token })).status).toBe(400);
    const disabled = await addUser('agent', true);
    for (const target of [disabled.userId, other.userId]) {
      const res = await t.http.delete(`/v1/users/${leaver.userId}?reassignTo=${target}`, { token });
      expect(res.status).toBe(404);
      expect(res.body.error.details).toEqual([{ field: 'reassignTo', errors: [expect.any(String)] }]);
    }
    expect((await t.dataSource.query(`SELECT 1 FROM users WHERE id = $1`, [leaver.userId])).length).toBe(1);

    const removed = await t.http.delete(`/v1/users/${leaver.userId}?reassignTo=${heir.userId}`, { token });
    expect(removed.status).toBe(200);
    expect((await t.dataSource.query(`SELECT 1 FROM users WHERE id = $1`, [leaver.userId])).length).toBe(0);
    for (const [r] of RESOURCES) {
      expect(await assignee(r, ids[r]!)).toBe(heir.userId);
      expect((await updates(ids[r]!)).map((u) => u.new_values)).toEqual([{ assignedTo: heir.userId }]);
    }
    // The trashed one is released (it cannot point at a removed user), with its own audit row.
    expect(await assignee('clients', trashed)).toBeNull();
    expect((await updates(trashed)).map((u) => [u.old_values, u.new_values])).toEqual([
      [{ assignedTo: leaver.userId }, { assignedTo: null }],
    ]);
  });

  it('DELETE /:id without reassignTo leaves the records unassigned, each with an audit row', async () => {
    const leaver = await addUser('viewer');
    const { ids, trashed } = await giveRecords(leaver);
    const removed = await t.http.delete(`/v1/users/${leaver.userId}`, { token });
    expect(removed.status).toBe(200);
    for (const id of [...Object.entries(ids).map(([r, id]) => [r, id] as const), ['clients', trashed] as const]) {
      expect(await assignee(id[0], id[1])).toBeNull();
      expect((await updates(id[1])).map((u) => [u.old_values, u.new_values])).toEqual([
        [{ assignedTo: leaver.userId }, { assignedTo: null }],
      ]);
    }
    // The removed user is no longer assignable.
    expect(
      (await t.http.post('/v1/clients', { firstName: 'A', lastName: 'B', assignedTo: leaver.userId }, { token }))
        .status,
    ).toBe(404);
    expect((await verifyChains(t, admin.teamId)).ok).toBe(true);
  });
});
