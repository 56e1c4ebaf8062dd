import { registerTeam } from './helpers/auth';
import { listAll } from './helpers/crm-cases';
import { expectNoLeak } from './helpers/http';
import { type TestApp, startTestApp } from './helpers/test-app';
import { verifyChains } from './helpers/crm';

const UA = 'audit-e2e/1.0 (+https://example.com)';

/**
 * The audit trail through the API: N successful mutations make exactly N rows with the right values, who,
 * IP and user agent; failed ones make none (including a failure after the audit insert); GET /v1/audit-log
 * filters and pages newest first.
 */
describe('audit log over HTTP', () => {
  let t: TestApp;
  let token: string;
  let teamId: string;
  let userId: string;
  const headers = { 'user-agent': UA, 'x-forwarded-for': '203.0.113.9' };
  const req = {
    get token() {
      return token;
    },
    headers,
  };
  const count = async () =>
    (await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_log WHERE team_id = $1`, [teamId]))[0].n as number;

  beforeAll(async () => {
    t = await startTestApp({ env: { TRUST_PROXY: 'loopback' } });
    const team = await registerTeam(t);
    token = team.accessToken;
    teamId = team.teamId;
    userId = team.userId;
  });
  afterAll(() => t.close());

  it('N successful mutations → exactly N audit rows with correct old/new values, user, IP and user agent', async () => {
    const start = await count();
    const client = (await t.http.post('/v1/clients', { firstName: 'Audit', lastName: 'Me', status: 'active' }, req))
      .body.data;
    const patched = (
      await t.http.patch(`/v1/clients/${client.id}`, { status: 'inactive', email: 'audit@example.com' }, req)
    ).body.data;
    const listing = (await t.http.post('/v1/listings', { address: '1 Audit Ave', price: 500000 }, req)).body.data;
    await t.http.patch(`/v1/listings/${listing.id}`, { price: '450000.00' }, req);
    const appt = (
      await t.http.post(
        '/v1/appointments',
        { title: 'Audit', startsAt: '2030-01-01T10:00:00Z', clientId: client.id },
        req,
      )
    ).body.data;
    await t.http.delete(`/v1/appointments/${appt.id}`, req);
    await t.http.delete(`/v1/clients/${client.id}`, req);
    const N = 7;
    expect((await count()) - start).toBe(N);

    const rows = await t.dataSource.query(`SELECT * FROM audit_log WHERE team_id = $1 ORDER BY seq DESC LIMIT ${N}`, [
      teamId,
    ]);
    rows.reverse();
    expect(rows.map((r: { action: string; resource_type: string }) => `${r.action} ${r.resource_type}`)).toEqual([
      'CREATE client',
      'UPDATE client',
      'CREATE listing',
      'UPDATE listing',
      'CREATE appointment',
      'DELETE appointment',
      'DELETE client',
    ]);
    for (const r of rows)
      expect(r).toMatchObject({ user_id: userId, api_key_id: null, ip_address: '203.0.113.9', user_agent: UA });
    expect(rows[0]).toMatchObject({ resource_id: client.id, old_values: null, new_values: { ...client } });
    expect(rows[1]).toMatchObject({
      old_values: { status: 'active', email: null },
      new_values: { status: 'inactive', email: 'audit@example.com' },
    });
    expect(rows[3]).toMatchObject({ old_values: { price: '500000.00' }, new_values: { price: '450000.00' } });
    expect(rows[5]).toMatchObject({
      resource_id: appt.id,
      old_values: { ...appt, startsAt: '2030-01-01T10:00:00.000Z' },
      new_values: null,
    });
    expect(rows[6].old_values).toEqual(patched);
  });

  it('failed mutations (validation, not found, conflict, forbidden filter) write no audit row', async () => {
    const start = await count();
    const lead = (await t.http.post('/v1/leads', { firstName: 'L', lastName: 'Once' }, req)).body.data;
    await t.http.post(`/v1/leads/${lead.id}/convert`, undefined, req);
    const after = await count();
    expect(after - start).toBe(3);
    const failures = [
      await t.http.post('/v1/clients', { firstName: 'x' }, req),
      await t.http.post(
        '/v1/appointments',
        { title: 'x', startsAt: '2030-01-01T10:00:00Z', endsAt: '2029-01-01T10:00:00Z' },
        req,
      ),
      await t.http.patch('/v1/clients/00000000-0000-4000-8000-000000000000', { status: 'inactive' }, req),
      await t.http.delete('/v1/clients/00000000-0000-4000-8000-000000000000', req),
      await t.http.post(`/v1/leads/${lead.id}/convert`, undefined, req),
      await t.http.patch(`/v1/leads/${lead.id}`, { leadStatus: 'new' }, req),
      await t.http.post('/v1/escrows', { propertyAddress: 'x', clientId: '00000000-0000-4000-8000-000000000000' }, req),
    ];
    expect(failures.map((r) => r.status)).toEqual([400, 400, 404, 404, 409, 409, 404]);
    expect(await count()).toBe(after);
  });

  it('a failure raised after the audit insert returns 500 without leaking, and leaves neither the row nor its audit entry', async () => {
    await t.dataSource.query(`
      CREATE FUNCTION test_http_fail() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.new_values->>'lastName' = 'Doomed' THEN RAISE EXCEPTION 'forced failure after the audit insert'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_http_fail AFTER INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION test_http_fail();`);
    try {
      const start = await count();
      const res = await t.http.post('/v1/leads', { firstName: 'Very', lastName: 'Doomed' }, req);
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe('INTERNAL_ERROR');
      expectNoLeak(res.text);
      expect(res.text).not.toContain('forced failure');
      expect(await t.dataSource.query(`SELECT 1 FROM leads WHERE last_name = 'Doomed'`)).toEqual([]);
      expect(await count()).toBe(start);
    } finally {
      await t.dataSource.query(`DROP TRIGGER test_http_fail ON audit_log; DROP FUNCTION test_http_fail();`);
    }
    expect((await verifyChains(t, teamId)).ok).toBe(true);
  });

  it('GET /v1/audit-log: newest first, keyset pages without gaps or duplicates, every filter', async () => {
    const all = await listAll(t, token, '/v1/audit-log');
    expect(all.length).toBe(await count());
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => all.length - i));
    expect(all[0]).toEqual({
      id: expect.any(String),
      lane: 0,
      seq: all.length,
      action: expect.stringMatching(/^(CREATE|UPDATE|DELETE)$/),
      resourceType: expect.any(String),
      resourceId: expect.any(String),
      oldValues: expect.anything(),
      newValues: expect.anything(),
      userId,
      apiKeyId: null,
      ip: '203.0.113.9',
      userAgent: UA,
      createdAt: expect.any(String),
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const paged = await listAll(t, token, '/v1/audit-log', '', 2);
    expect(paged.map((e) => e.id)).toEqual(all.map((e) => e.id));

    const firstClient = all.filter((e) => e.resourceType === 'client').pop()!;
    const checks: Array<[string, (e: any) => boolean]> = [
      ['resourceType=listing', (e) => e.resourceType === 'listing'],
      [`resourceId=${firstClient.resourceId}`, (e) => e.resourceId === firstClient.resourceId],
      ['action=DELETE', (e) => e.action === 'DELETE'],
      [`userId=${userId}`, () => true],
      ['userId=00000000-0000-4000-8000-000000000000', () => false],
      ['resourceType=client&action=UPDATE', (e) => e.resourceType === 'client' && e.action === 'UPDATE'],
      [`from=${encodeURIComponent(all[2]!.createdAt)}`, (e) => e.createdAt >= all[2]!.createdAt],
      [`to=${encodeURIComponent(all[2]!.createdAt)}`, (e) => e.createdAt <= all[2]!.createdAt],
      ['from=2999-01-01T00:00:00Z', () => false],
    ];
    for (const [query, match] of checks) {
      const got = await listAll(t, token, '/v1/audit-log', query, 3);
      expect(got.map((e) => e.id)).toEqual(all.filter(match).map((e) => e.id));
    }
    for (const bad of [
      'resourceType=clients',
      'action=create',
      'resourceId=abc',
      'userId=1',
      'from=yesterday',
      'limit=0',
      'limit=500',
      'cursor=%%%',
      `cursor=${Buffer.from('{"seq":"0"}').toString('base64url')}`,
      'other=1',
    ]) {
      const res = await t.http.get(`/v1/audit-log?${bad}`, { token });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
  });
});
