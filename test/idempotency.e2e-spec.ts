import { type FastifyRequest } from 'fastify';
import { type SignedIn, loginOk, registerTeam, STRONG_PASSWORD } from './helpers/auth';
import { enrolMfa } from './helpers/mfa';
import { ManualClock } from '../src/common/time/clock';
import { type TestApp, startTestApp } from './helpers/test-app';
import { IdempotencyService } from '../src/modules/idempotency/idempotency.service';
import { DataKeys } from '../src/modules/data-keys/data-keys.service';
import { requestFingerprint } from '../src/modules/idempotency/idempotency.interceptor';

/**
 * Idempotency-Key (API.md, Conventions): the same key, route and body does the work once and replays the
 * first answer; anything else on that key is 409 IDEMPOTENCY_CONFLICT; 5xx answers are not kept.
 */
describe('Idempotency-Key', () => {
  let t: TestApp;
  let admin: SignedIn;
  let codes: string[];
  let seq = 0;
  const newKey = () => `key-${Date.now().toString(36)}-${seq++}`;
  const lead = (n = seq) => ({ firstName: 'Ida', lastName: `Lead ${n}`, email: `ida${n}@example.com` });
  const withKey = (key: string, auth: { token?: string; apiKey?: string }) => ({
    ...auth,
    headers: { 'Idempotency-Key': key },
  });
  const leadsNamed = async (lastName: string): Promise<number> =>
    Number(
      (
        await t.dataSource.query(`SELECT count(*)::int AS n FROM leads WHERE team_id = $1 AND last_name = $2`, [
          admin.teamId,
          lastName,
        ])
      )[0].n,
    );
  const auditCount = async (resourceId: string): Promise<number> =>
    Number(
      (
        await t.dataSource.query(
          `SELECT count(*)::int AS n FROM audit_log WHERE team_id = $1 AND resource_type = 'lead' AND resource_id = $2`,
          [admin.teamId, resourceId],
        )
      )[0].n,
    );

  beforeAll(async () => {
    t = await startTestApp({ env: { IDEMPOTENCY_TTL_HOURS: '2.5' } });
    admin = await registerTeam(t, { teamName: 'Idem' });
    codes = (await enrolMfa(t, admin.accessToken)).backupCodes;
  });
  afterAll(() => t?.close());

  it('10 parallel POSTs with one key: one lead, one audit row; the others are 409 or replays of the same 201', async () => {
    const key = newKey();
    const body = lead(1001);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => t.http.post('/v1/leads', body, withKey(key, { token: admin.accessToken }))),
    );
    const created = answers.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const r of answers) expect([201, 409]).toContain(r.status);
    for (const r of answers.filter((a) => a.status === 409)) expect(r.body.error.code).toBe('IDEMPOTENCY_CONFLICT');
    // Every 201 is the same answer: the first one, replayed.
    const first = created.find((r) => r.headers.get('idempotent-replayed') === null)!;
    expect(first).toBeDefined();
    expect(created.filter((r) => r.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    for (const r of created) expect(r.text).toBe(first.text);
    expect(await leadsNamed(body.lastName)).toBe(1);
    expect(await auditCount(first.body.data.id)).toBe(1);

    // After completion, every retry is a replay with the header.
    const again = await t.http.post('/v1/leads', body, withKey(key, { token: admin.accessToken }));
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
    expect(await leadsNamed(body.lastName)).toBe(1);
    expect(await auditCount(first.body.data.id)).toBe(1);
  });

  it('the same body with its keys in another order, and another spelling of the path, are the same request', async () => {
    const key = newKey();
    const body = lead(1002);
    const first = await t.http.post('/v1/leads', body, withKey(key, { token: admin.accessToken }));
    expect(first.status).toBe(201);
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const r1 = await t.http.post('/v1/leads', reordered, withKey(key, { token: admin.accessToken }));
    const r2 = await t.http.post('/v1/%6Ceads', body, withKey(key, { token: admin.accessToken }));
    for (const r of [r1, r2]) {
      expect(r.status).toBe(201);
      expect(r.headers.get('idempotent-replayed')).toBe('true');
      expect(r.body.data.id).toBe(first.body.data.id);
    }
    expect(await leadsNamed(body.lastName)).toBe(1);
  });

  it('the same key with another body, another path or another query is 409 IDEMPOTENCY_CONFLICT and does nothing', async () => {
    const key = newKey();
    const body = lead(1003);
    expect((await t.http.post('/v1/leads', body, withKey(key, { token: admin.accessToken }))).status).toBe(201);
    const otherBody = await t.http.post(
      '/v1/leads',
      { ...body, lastName: 'Other 1003' },
      withKey(key, { token: admin.accessToken }),
    );
    expect(otherBody.status).toBe(409);
    expect(otherBody.body.error.code).toBe('IDEMPOTENCY_CONFLICT');
    expect(otherBody.body.error.message).toMatch(/another request/);
    const otherPath = await t.http.post('/v1/clients', body, withKey(key, { token: admin.accessToken }));
    expect(otherPath.status).toBe(409);
    expect(otherPath.body.error.code).toBe('IDEMPOTENCY_CONFLICT');
    const otherQuery = await t.http.post('/v1/leads?x=1', body, withKey(key, { token: admin.accessToken }));
    expect(otherQuery.status).toBe(409);
    expect(await leadsNamed('Other 1003')).toBe(0);
    const clients = await t.dataSource.query(`SELECT 1 FROM clients WHERE team_id = $1 AND last_name = $2`, [
      admin.teamId,
      body.lastName,
    ]);
    expect(clients).toHaveLength(0);
  });

  it('a key still in progress is 409 and the handler does not run', async () => {
    const key = newKey();
    const body = lead(1004);
    // The claim an unfinished request holds, with the fingerprint this very request will have.
    const fingerprint = requestFingerprint({
      method: 'POST',
      routeOptions: { url: '/v1/leads' },
      params: {},
      query: {},
      body,
    } as unknown as FastifyRequest);
    const service = t.app.get(IdempotencyService);
    const claim = await service.claim(
      { teamId: admin.teamId, credentialKind: 'user', credentialId: admin.userId, key },
      fingerprint,
    );
    expect(claim.kind).toBe('claimed');
    const res = await t.http.post('/v1/leads', body, withKey(key, { token: admin.accessToken }));
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('IDEMPOTENCY_CONFLICT');
    expect(res.body.error.message).toMatch(/still being processed/);
    expect(await leadsNamed(body.lastName)).toBe(0);
  });

  it('keys of 0 or 256 characters, or with non-ASCII characters, are 400; 255 is fine', async () => {
    for (const bad of ['', 'k'.repeat(256), 'clé']) {
      const res = await t.http.post('/v1/leads', lead(1005), withKey(bad, { token: admin.accessToken }));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(res.body.error.message).toMatch(/Idempotency-Key/);
    }
    expect(await leadsNamed(lead(1005).lastName)).toBe(0);
    const ok = await t.http.post('/v1/leads', lead(1005), withKey('k'.repeat(255), { token: admin.accessToken }));
    expect(ok.status).toBe(201);
  });

  it('keys are per credential: another user and an API key with the same key each do their own work', async () => {
    const key = newKey();
    const body = lead(1006);
    const colleague = await t.http.post(
      '/v1/users',
      {
        email: `agent-${key}@example.com`,
        password: STRONG_PASSWORD,
        firstName: 'Al',
        lastName: 'Agent',
        role: 'agent',
      },
      { token: admin.accessToken },
    );
    expect(colleague.status).toBe(201);
    const agentLogin = await t.http.post('/v1/auth/login', {
      email: `agent-${key}@example.com`,
      password: STRONG_PASSWORD,
    });
    const agentToken = agentLogin.body.data.accessToken as string;
    const apiKey = await t.http.post(
      '/v1/api-keys',
      { name: 'idem', scopes: ['leads:write'], otp: codes.shift() },
      { token: admin.accessToken },
    );
    expect(apiKey.status).toBe(201);

    const a = await t.http.post('/v1/leads', body, withKey(key, { token: admin.accessToken }));
    const b = await t.http.post('/v1/leads', body, withKey(key, { token: agentToken }));
    const c = await t.http.post('/v1/leads', body, withKey(key, { apiKey: apiKey.body.data.key }));
    for (const r of [a, b, c]) {
      expect(r.status).toBe(201);
      expect(r.headers.get('idempotent-replayed')).toBeNull();
    }
    expect(new Set([a.body.data.id, b.body.data.id, c.body.data.id]).size).toBe(3);
    // And each is replayed for its own credential only.
    const c2 = await t.http.post('/v1/leads', body, withKey(key, { apiKey: apiKey.body.data.key }));
    expect(c2.headers.get('idempotent-replayed')).toBe('true');
    expect(c2.body.data.id).toBe(c.body.data.id);
    expect(await leadsNamed(body.lastName)).toBe(3);
  });

  it('a replay of an answer that carried a secret shown once (an API key, a webhook secret) has that field null; the row never holds it', async () => {
    const key = newKey();
    const body = { name: 'sealed', scopes: ['leads:read'], otp: codes.shift() };
    const first = await t.http.post('/v1/api-keys', body, withKey(key, { token: admin.accessToken }));
    expect(first.status).toBe(201);
    const secret = first.body.data.key as string;
    expect(secret).toMatch(/^hk_/);
    const again = await t.http.post('/v1/api-keys', body, withKey(key, { token: admin.accessToken }));
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    // The same answer otherwise: one key was made, and the replay names it.
    expect(again.body.data).toEqual({ ...first.body.data, key: null });
    expect(again.text).not.toContain(secret.slice(secret.indexOf('_', 3) + 1));
    const keys = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM api_keys WHERE team_id = $1 AND name = 'sealed'`,
      [admin.teamId],
    );
    expect(keys[0].n).toBe(1);
    // The row is sealed, and even opened with the data key (what a thief with the key and a dump would do) it does
    // not hold the secret: it was never stored.
    const [row] = await t.dataSource.query(
      `SELECT response_body FROM idempotency_keys WHERE team_id = $1 AND idempotency_key = $2`,
      [admin.teamId, key],
    );
    expect(row.response_body).toMatch(/^v2:[0-9a-f]{8}:/);
    expect(row.response_body).not.toContain(secret.slice(secret.indexOf('_', 3) + 1));
    const opened = t.app
      .get(DataKeys)
      .open(row.response_body, `idempotency:${admin.teamId}:user:${admin.userId}:${key}`, {
        table: 'idempotency_keys',
        column: 'response_body',
        row: key,
      });
    expect(JSON.parse(opened).data).toMatchObject({ id: first.body.data.id, key: null });
    expect(opened).not.toContain(secret.slice(secret.indexOf('_', 3) + 1));

    // A webhook's signing secret likewise (same route declaration, @ShownOnceSecret('secret')).
    const hookKey = newKey();
    const hook = { url: 'https://93.184.215.14/hook', events: ['lead.created'] };
    const created = await t.http.post('/v1/webhooks', hook, withKey(hookKey, { token: admin.accessToken }));
    expect(created.status).toBe(201);
    expect(created.body.data.secret).toMatch(/^whsec_/);
    const replayed = await t.http.post('/v1/webhooks', hook, withKey(hookKey, { token: admin.accessToken }));
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.body.data).toEqual({ ...created.body.data, secret: null });

    // A sealed answer moved to another key's row does not open there (bound to its owner).
    const other = newKey();
    await t.http.post('/v1/leads', lead(1099), withKey(other, { token: admin.accessToken }));
    await t.dataSource.query(
      `UPDATE idempotency_keys SET response_body = $3 WHERE team_id = $1 AND idempotency_key = $2`,
      [admin.teamId, other, row.response_body],
    );
    const moved = await t.http.post('/v1/leads', lead(1099), withKey(other, { token: admin.accessToken }));
    expect(moved.status).toBe(500);
    expect(moved.body.error.code).toBe('DATA_KEY_MISMATCH');
    expect(JSON.stringify(moved.body)).not.toContain(secret);
  });

  it('another team using the same key is independent of this one', async () => {
    const key = newKey();
    const other = await registerTeam(t, { teamName: 'Idem other' });
    const body = lead(1007);
    const mine = await t.http.post('/v1/leads', body, withKey(key, { token: admin.accessToken }));
    const theirs = await t.http.post('/v1/leads', body, withKey(key, { token: other.accessToken }));
    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(theirs.body.data.id).not.toBe(mine.body.data.id);
  });

  it('a 4xx answer is kept and replayed; a correct body on that key is then 409', async () => {
    const key = newKey();
    const bad = { firstName: 'No last name', leadType: 'alien' };
    const first = await t.http.post('/v1/leads', bad, withKey(key, { token: admin.accessToken }));
    expect(first.status).toBe(400);
    const again = await t.http.post('/v1/leads', bad, withKey(key, { token: admin.accessToken }));
    expect(again.status).toBe(400);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
    expect(again.headers.get('content-type')).toMatch(/application\/json/);
    const fixed = await t.http.post('/v1/leads', lead(1008), withKey(key, { token: admin.accessToken }));
    expect(fixed.status).toBe(409);
  });

  it('headers that are part of the answer (ETag) are replayed with it; the work ran once', async () => {
    const created = await t.http.post('/v1/leads', lead(1014), { token: admin.accessToken });
    const id = created.body.data.id as string;
    expect((await t.http.delete(`/v1/leads/${id}`, { token: admin.accessToken })).status).toBe(200);
    const key = newKey();
    const first = await t.http.post(`/v1/leads/${id}/restore`, undefined, withKey(key, { token: admin.accessToken }));
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toMatch(/^"\d+"$/);
    const again = await t.http.post(`/v1/leads/${id}/restore`, undefined, withKey(key, { token: admin.accessToken }));
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(again.text).toBe(first.text);
    const restores = await t.dataSource.query(
      `SELECT 1 FROM audit_log WHERE team_id = $1 AND resource_id = $2 AND action = 'RESTORE'`,
      [admin.teamId, id],
    );
    expect(restores).toHaveLength(1);
  });

  it('a 5xx answer is not kept: the same key runs again once the fault is gone', async () => {
    const key = newKey();
    const body = lead(1009);
    // A fault inside the handler's transaction: the tenant role may not insert leads for a moment.
    await t.dataSource.query(`REVOKE INSERT ON leads FROM app_tenant`);
    let failed;
    try {
      failed = await t.http.post('/v1/leads', body, withKey(key, { token: admin.accessToken }));
    } finally {
      await t.dataSource.query(`GRANT INSERT ON leads TO app_tenant`);
    }
    expect(failed.status).toBe(500);
    const rows = await t.dataSource.query(`SELECT 1 FROM idempotency_keys WHERE idempotency_key = $1`, [key]);
    expect(rows).toHaveLength(0);
    const retry = await t.http.post('/v1/leads', body, withKey(key, { token: admin.accessToken }));
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(await leadsNamed(body.lastName)).toBe(1);
  });

  it('keys expire after IDEMPOTENCY_TTL_HOURS: an expired key is free again and the purge deletes it', async () => {
    const key = newKey();
    const body = lead(1010);
    const first = await t.http.post('/v1/leads', body, withKey(key, { token: admin.accessToken }));
    expect(first.status).toBe(201);
    const [row] = await t.dataSource.query(
      `SELECT extract(epoch FROM expires_at - created_at)::float8 AS ttl, state, status_code FROM idempotency_keys WHERE idempotency_key = $1`,
      [key],
    );
    expect(row.ttl).toBeCloseTo(2.5 * 3600, 0);
    expect(row.state).toBe('completed');
    expect(row.status_code).toBe(201);

    // Time passes (the row's expiry moved into the past instead of waiting 2.5 hours).
    await t.dataSource.query(
      `UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE idempotency_key = $1`,
      [key],
    );
    const service = t.app.get(IdempotencyService);
    const live = Number(
      (await t.dataSource.query(`SELECT count(*)::int AS n FROM idempotency_keys WHERE expires_at > now()`))[0].n,
    );
    expect(await service.purge()).toBe(1);
    expect(await t.dataSource.query(`SELECT 1 FROM idempotency_keys WHERE idempotency_key = $1`, [key])).toHaveLength(
      0,
    );
    expect(Number((await t.dataSource.query(`SELECT count(*)::int AS n FROM idempotency_keys`))[0].n)).toBe(live);

    // Expired but not yet purged: taken over by the next request, whatever it is.
    const key2 = newKey();
    expect((await t.http.post('/v1/leads', lead(1011), withKey(key2, { token: admin.accessToken }))).status).toBe(201);
    await t.dataSource.query(
      `UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE idempotency_key = $1`,
      [key2],
    );
    const reused = await t.http.post('/v1/leads', lead(1012), withKey(key2, { token: admin.accessToken }));
    expect(reused.status).toBe(201);
    expect(reused.headers.get('idempotent-replayed')).toBeNull();
    expect(await leadsNamed(lead(1012).lastName)).toBe(1);
  });

  it('/v1/auth/* ignores the header (even an invalid one) and stores nothing', async () => {
    const key = newKey();
    const before = Number((await t.dataSource.query(`SELECT count(*)::int AS n FROM idempotency_keys`))[0].n);
    for (const header of [key, 'k'.repeat(300)]) {
      for (let i = 0; i < 2; i++) {
        const res = await t.http.post(
          '/v1/auth/forgot-password',
          { email: admin.email },
          { headers: { 'Idempotency-Key': header } },
        );
        expect(res.status).toBe(202);
        expect(res.headers.get('idempotent-replayed')).toBeNull();
      }
      const reauth = await t.http.post('/v1/auth/logout-all', undefined, {
        token: (await loginOk(t, admin.email, STRONG_PASSWORD, { otp: codes.shift() })).accessToken,
        headers: { 'Idempotency-Key': header },
      });
      expect(reauth.status).toBe(200);
    }
    expect(Number((await t.dataSource.query(`SELECT count(*)::int AS n FROM idempotency_keys`))[0].n)).toBe(before);
  });

  it('the table is the team’s: app_tenant with team A set sees only team A’s keys', async () => {
    const other = await registerTeam(t, { teamName: 'Idem RLS' });
    const key = newKey();
    expect((await t.http.post('/v1/leads', lead(1013), withKey(key, { token: other.accessToken }))).status).toBe(201);
    const seen = await t.dataSource.transaction(async (m) => {
      await m.query(`SET LOCAL ROLE app_tenant`);
      await m.query(`SELECT set_config('app.team_id', $1, true)`, [admin.teamId]);
      return m.query(`SELECT DISTINCT team_id FROM idempotency_keys`);
    });
    expect(seen.map((r: { team_id: string }) => r.team_id)).toEqual([admin.teamId]);
  });
});

/** Key expiry on a ManualClock: time moves past IDEMPOTENCY_TTL_HOURS instead of rows being back-dated. */
describe('Idempotency-Key expiry follows the clock', () => {
  const clock = new ManualClock();
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ clock, env: { IDEMPOTENCY_TTL_HOURS: '2' } });
  });
  afterAll(() => t.close());

  const HOUR = 3_600_000;
  const post = (token: string, key: string, lastName: string) =>
    t.http.post('/v1/leads', { firstName: 'Tic', lastName }, { token, headers: { 'Idempotency-Key': key } });
  const stored = async (key: string) =>
    (await t.dataSource.query(`SELECT 1 FROM idempotency_keys WHERE idempotency_key = $1`, [key])).length;

  it('a key holds for IDEMPOTENCY_TTL_HOURS by the clock, is free after, and the purge deletes it', async () => {
    const admin = await registerTeam(t);
    expect((await post(admin.accessToken, 'clock-key', 'First')).status).toBe(201);

    clock.advance(HOUR + 50 * 60_000); // 1 h 50 min: still held
    let token = (await loginOk(t, admin.email, STRONG_PASSWORD)).accessToken;
    const held = await post(token, 'clock-key', 'Other body');
    expect(held.status).toBe(409);
    expect(held.body.error.code).toBe('IDEMPOTENCY_CONFLICT');
    expect(await t.app.get(IdempotencyService).purge()).toBe(0);

    clock.advance(11 * 60_000); // 2 h 01 min: expired, taken over by the next request
    token = (await loginOk(t, admin.email, STRONG_PASSWORD)).accessToken;
    const reused = await post(token, 'clock-key', 'Second');
    expect(reused.status).toBe(201);
    expect(reused.headers.get('idempotent-replayed')).toBeNull();

    // The purge deletes what the clock says has expired, and nothing else.
    expect((await post(token, 'other-key', 'Third')).status).toBe(201);
    clock.advance(HOUR);
    expect(await t.app.get(IdempotencyService).purge()).toBe(0);
    clock.advance(HOUR + 60_000);
    expect(await t.app.get(IdempotencyService).purge()).toBe(2);
    expect(await stored('clock-key')).toBe(0);
    expect(await stored('other-key')).toBe(0);
  });
});
