import { ApiKeyExpiryJob } from '../src/modules/api-keys/api-key-expiry.job';
import { ApiKeyUsage } from '../src/modules/api-keys/api-key-usage.service';
import { ManualClock } from '../src/common/time/clock';
import { type TestApp, startTestApp } from './helpers/test-app';
import { STRONG_PASSWORD, type SignedIn, loginOk, registerTeam } from './helpers/auth';
import { codeAt, enrolMfa } from './helpers/mfa';
import { readOutbox } from './helpers/outbox';

describe('API keys', () => {
  /** Moved forward (and back) within a test; every other test runs at the wall-clock time. */
  const clock = new ManualClock();
  let t: TestApp;
  let admin: SignedIn;
  let secret: string;
  let backup: string[];
  let nextBackup = 0;
  /** A fresh one-time code for each creation; the last backup code buys a new set. */
  const otp = async (): Promise<string> => {
    if (nextBackup === backup.length - 1) {
      const fresh = await t.http.post(
        '/v1/auth/2fa/backup-codes',
        { password: STRONG_PASSWORD, code: backup[nextBackup] },
        { token: admin.accessToken },
      );
      backup = fresh.body.data.backupCodes;
      nextBackup = 0;
    }
    return backup[nextBackup++]!;
  };

  beforeAll(async () => {
    t = await startTestApp({ clock, env: { TRUST_PROXY: 'loopback' } });
    admin = await registerTeam(t);
    ({ secret, backupCodes: backup } = await enrolMfa(t, admin.accessToken));
  });
  afterAll(() => t.close());

  const createKey = async (body: Record<string, unknown>, token = admin.accessToken) =>
    t.http.post(
      '/v1/api-keys',
      { name: 'integration', scopes: ['clients:read'], otp: await otp(), ...body },
      { token },
    );
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  it('creates a key shown once (prefix_secret, 256 bits), lists it without secrets, and it authenticates', async () => {
    const res = await createKey({ name: 'Zapier', scopes: ['clients:read', 'leads:write'], expiresInDays: 30 });
    expect(res.status).toBe(201);
    const key = res.body.data;
    expect(key.key).toMatch(/^hk_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    expect(key.key.startsWith(`${key.prefix}_`)).toBe(true);
    expect(key).toMatchObject({ name: 'Zapier', scopes: ['clients:read', 'leads:write'], allowedIps: [] });
    const days = (new Date(key.expiresAt).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);

    const list = await t.http.get('/v1/api-keys', { token: admin.accessToken });
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(key.key.slice(key.prefix.length + 1));
    expect(list.body.data.find((k: { id: string }) => k.id === key.id)).toMatchObject({
      prefix: key.prefix,
      lastUsedAt: null,
    });

    const me = await t.http.get('/v1/auth/me', { apiKey: key.key });
    expect(me.status).toBe(200);
    expect(me.body.data).toEqual({
      type: 'apiKey',
      id: key.id,
      name: 'Zapier',
      teamId: admin.teamId,
      scopes: ['clients:read', 'leads:write'],
    });

    // Default expiry when none is given.
    const dflt = await createKey({});
    expect((new Date(dflt.body.data.expiresAt).getTime() - Date.now()) / 86_400_000).toBeGreaterThan(89.9);
    // An audit row for the creation, without the key.
    const [audit] = await t.dataSource.query(
      `SELECT action, new_values FROM audit_log WHERE resource_type = 'api_key' AND resource_id = $1`,
      [key.id],
    );
    expect(audit.action).toBe('CREATE');
    expect(JSON.stringify(audit)).not.toContain(key.key);
  });

  it('refuses creation without 2FA enrolment, without a valid otp, with bad scopes, CIDRs or expiry', async () => {
    const plain = await registerTeam(t);
    const noMfa = await t.http.post(
      '/v1/api-keys',
      { name: 'x', scopes: ['clients:read'], otp: '123456' },
      { token: plain.accessToken },
    );
    expect(noMfa.status).toBe(403);
    expect(noMfa.body.error.code).toBe('MFA_ENROLLMENT_REQUIRED');

    const badOtp = await t.http.post(
      '/v1/api-keys',
      { name: 'x', scopes: ['clients:read'], otp: '000000' },
      { token: admin.accessToken },
    );
    expect(badOtp.status).toBe(401);
    expect(badOtp.body.error.code).toBe('INVALID_MFA_CODE');

    for (const body of [
      { scopes: ['users:read'] },
      { scopes: ['clients:admin'] },
      { scopes: [] },
      { allowedIps: ['10.0.0.0/33'] },
      { allowedIps: ['example.com'] },
      { expiresInDays: 366 },
      { expiresInDays: 0 },
      { expiresAt: new Date(Date.now() - 1000).toISOString() },
      { expiresAt: new Date(Date.now() + 400 * 86_400_000).toISOString() },
    ]) {
      const res = await t.http.post(
        '/v1/api-keys',
        { name: 'x', scopes: ['clients:read'], otp: 'unused1-', ...body },
        { token: admin.accessToken },
      );
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
  });

  it('a key allowed only for another IP is refused (403 IP_NOT_ALLOWED); CIDR and IPv6 entries match', async () => {
    const res = await createKey({ allowedIps: ['203.0.113.7', '10.0.0.0/8', '2001:db8::/32'] });
    const key = res.body.data.key;
    expect(res.body.data.allowedIps).toEqual(['203.0.113.7', '10.0.0.0/8', '2001:db8:0:0:0:0:0:0/32']);
    const refused = await t.http.get('/v1/auth/me', { apiKey: key, headers: from('198.51.100.1') });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('IP_NOT_ALLOWED');
    for (const ip of ['203.0.113.7', '10.9.8.7', '2001:db8::5']) {
      expect((await t.http.get('/v1/auth/me', { apiKey: key, headers: from(ip) })).status).toBe(200);
    }
    const [event] = await t.dataSource.query(
      `SELECT severity FROM security_events WHERE event_type = 'ip_not_allowed' AND ip_address = '198.51.100.1'`,
    );
    expect(event.severity).toBe('high');
  });

  it('a key that expired seconds ago is refused with 401 API_KEY_EXPIRED', async () => {
    const res = await createKey({ expiresAt: new Date(clock.nowMs() + 1500).toISOString() });
    const key = res.body.data.key;
    expect((await t.http.get('/v1/auth/me', { apiKey: key })).status).toBe(200);
    clock.advance(1700);
    const expired = await t.http.get('/v1/auth/me', { apiKey: key });
    clock.advance(-1700);
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('API_KEY_EXPIRED');
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM security_events WHERE event_type = 'api_key_expired' AND api_key_id = $1`,
      [res.body.data.id],
    );
    expect(n).toBe(1);
  });

  it('a revoked key stops working at once; unknown and malformed keys are 401', async () => {
    const res = await createKey({});
    const key = res.body.data.key;
    expect((await t.http.get('/v1/auth/me', { apiKey: key })).status).toBe(200);
    const revoke = await t.http.delete(`/v1/api-keys/${res.body.data.id}`, { token: admin.accessToken });
    expect(revoke.status).toBe(200);
    expect(revoke.body.data.revokedAt).toBeTruthy();
    expect((await t.http.get('/v1/auth/me', { apiKey: key })).status).toBe(401);
    expect((await t.http.delete(`/v1/api-keys/${res.body.data.id}`, { token: admin.accessToken })).status).toBe(409);
    const tampered = key.slice(0, -2) + (key.endsWith('A') ? 'BB' : 'AA');
    for (const bad of [tampered, 'hk_zzzzzzzz_' + 'a'.repeat(43), 'nonsense', "hk_' OR 1=1 --"]) {
      const r = await t.http.get('/v1/auth/me', { apiKey: bad });
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('UNAUTHENTICATED');
    }
  });

  it('keys cannot call /v1/auth/*, /v1/users or /v1/api-keys', async () => {
    const key = (await createKey({ scopes: ['*:*'] })).body.data.key;
    for (const [method, path] of [
      ['GET', '/v1/auth/sessions'],
      ['POST', '/v1/auth/logout-all'],
      ['POST', '/v1/auth/2fa/setup'],
      ['GET', '/v1/users'],
      ['GET', '/v1/api-keys'],
      ['GET', '/v1/security-events'],
    ] as const) {
      const res = await t.http.request(method, path, { apiKey: key });
      expect([res.status, res.body.error?.code]).toEqual([403, 'FORBIDDEN']);
    }
  });

  it('another team’s admin cannot see or revoke the key (404)', async () => {
    const key = (await createKey({})).body.data;
    const other = await registerTeam(t);
    const theirs = await enrolMfa(t, other.accessToken);
    void theirs;
    const fresh = await loginOk(t, other.email, STRONG_PASSWORD, { otp: codeAt(theirs.secret, 1) });
    expect((await t.http.delete(`/v1/api-keys/${key.id}`, { token: fresh.accessToken })).status).toBe(404);
    const list = await t.http.get('/v1/api-keys', { token: fresh.accessToken });
    expect(list.body.data).toEqual([]);
  });

  it('lastUsedAt is kept without a write per request, flushed in one statement', async () => {
    const created = (await createKey({})).body.data;
    for (let i = 0; i < 5; i++) await t.http.get('/v1/auth/me', { apiKey: created.key });
    const [before] = await t.dataSource.query(`SELECT last_used_at FROM api_keys WHERE id = $1`, [created.id]);
    expect(before.last_used_at).toBeNull();
    // Listed already (from memory)…
    const listed = (await t.http.get('/v1/api-keys', { token: admin.accessToken })).body.data.find(
      (k: { id: string }) => k.id === created.id,
    );
    expect(listed.lastUsedAt).toBeTruthy();
    // …and in the table after the flush.
    expect(await t.app.get(ApiKeyUsage).flush()).toBeGreaterThanOrEqual(1);
    const [after] = await t.dataSource.query(`SELECT last_used_at FROM api_keys WHERE id = $1`, [created.id]);
    expect(after.last_used_at).not.toBeNull();
  });

  it('mails the team admins once per key, API_KEY_EXPIRY_WARNING_DAYS before expiry', async () => {
    const soon = (await createKey({ name: 'Expiring soon', expiresInDays: 5 })).body.data;
    await createKey({ name: 'Far away', expiresInDays: 60 });
    const job = t.app.get(ApiKeyExpiryJob);
    await job.warnExpiringKeys();
    await job.warnExpiringKeys();
    const mails = readOutbox(t).filter((m) => /Expiring soon/.test(m.subject));
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toContain(admin.email);
    expect(mails[0]!.text).toContain(soon.prefix);
    expect(readOutbox(t).filter((m) => /Far away/.test(m.subject))).toHaveLength(0);
  });

  it('the warning goes out when the clock enters the warning window, and the key stops working at its expiry', async () => {
    const created = (await createKey({ name: 'Clockwork', expiresInDays: 10 })).body.data;
    const job = t.app.get(ApiKeyExpiryJob);
    const warnings = () => readOutbox(t).filter((m) => /Clockwork/.test(m.subject));
    const DAY = 86_400_000;
    try {
      await job.warnExpiringKeys();
      clock.advance(2.9 * DAY); // 7.1 days left: not yet (API_KEY_EXPIRY_WARNING_DAYS is 7)
      await job.warnExpiringKeys();
      expect(warnings()).toHaveLength(0);
      clock.advance(0.2 * DAY); // 6.9 days left
      await job.warnExpiringKeys();
      await job.warnExpiringKeys();
      expect(warnings().map((m) => m.subject)).toEqual(['API key "Clockwork" expires in 7 days']);
      expect((await t.http.get('/v1/auth/me', { apiKey: created.key })).status).toBe(200);
      clock.advance(7 * DAY);
      const expired = await t.http.get('/v1/auth/me', { apiKey: created.key });
      expect(expired.status).toBe(401);
      expect(expired.body.error.code).toBe('API_KEY_EXPIRED');
    } finally {
      clock.advance(-10.1 * DAY);
    }
  });

  it('the database holds no usable key', async () => {
    const created = (await createKey({})).body.data;
    const dump = JSON.stringify(await t.dataSource.query(`SELECT * FROM api_keys`));
    expect(dump).not.toContain(created.key);
    expect(dump).not.toContain(created.key.slice(12));
  });

  it('a TOTP code also works as the creation otp', async () => {
    const res = await t.http.post(
      '/v1/api-keys',
      { name: 'by totp', scopes: ['leads:read'], otp: codeAt(secret, 1) },
      { token: admin.accessToken },
    );
    expect(res.status).toBe(201);
  });
});
