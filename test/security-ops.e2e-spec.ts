import { type IncomingMessage, type Server, createServer } from 'node:http';
import { type TestApp, startTestApp } from './helpers/test-app';
import { STRONG_PASSWORD, login, loginOk, registerTeam } from './helpers/auth';
import { waitForMail } from './helpers/outbox';
import { probeServer, score } from '../scripts/security-check/checks';
import { GeoAnomalyService } from '../src/modules/anomaly/geo-anomaly.service';

interface Received {
  at: number;
  body: any;
}

/** A local Slack-like webhook receiver that answers slowly, to prove delivery is off the request path. */
async function startReceiver(delayMs: number): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      setTimeout(() => {
        received.push({ at: Date.now(), body: JSON.parse(raw) });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      }, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/security`, received, server };
}

describe('security operations: alerts, dashboard, event log, anomalies', () => {
  let t: TestApp;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    receiver = await startReceiver(1500);
    t = await startTestApp({
      env: {
        MAX_LOGIN_ATTEMPTS: '3',
        ALERT_EMAIL_TO: 'secops@example.com',
        ALERT_WEBHOOK_URL: receiver.url,
        // The receiver listens on an ephemeral port; the alert URL must use an allowed one.
        WEBHOOK_ALLOWED_PORTS: '80,443,8080,8443,1024-65535',
        TRUST_PROXY: 'loopback',
        ENABLE_IP_ANOMALY_DETECTION: 'true',
        GEO_ANOMALY_THRESHOLD_MILES: '500',
      },
    });
  });
  afterAll(async () => {
    await t.close();
    receiver.server.close();
  });

  it('a lockout produces a mail and a webhook POST within seconds, without slowing the request', async () => {
    const a = await registerTeam(t);
    await login(t, a.email, 'Wrong-Password-1!');
    await login(t, a.email, 'Wrong-Password-1!');
    const started = Date.now();
    const locking = await login(t, a.email, 'Wrong-Password-1!');
    const took = Date.now() - started;
    expect(locking.status).toBe(423);
    // The receiver takes 1.5 s to answer; the request that caused the alert did not wait for it.
    expect(took).toBeLessThan(1000);

    const mail = await waitForMail(
      t,
      (m) => m.to.includes('secops@example.com') && /account_locked/.test(m.subject),
      5000,
    );
    expect(mail.text).toContain(a.userId);
    const deadline = Date.now() + 6000;
    while (!receiver.received.some((r) => r.body.event?.type === 'account_locked') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const hook = receiver.received.find((r) => r.body.event?.type === 'account_locked');
    expect(hook).toBeDefined();
    expect(hook!.body.text).toMatch(/account_locked/);
    expect(hook!.body.attachments[0].fields).toEqual(
      expect.arrayContaining([expect.objectContaining({ title: 'Severity', value: 'high' })]),
    );
    expect(hook!.at - started).toBeLessThan(5000);
  });

  it('the dashboard numbers equal counts computed independently from the events table', async () => {
    const admin = await registerTeam(t);
    const member = { email: admin.email };
    // Some activity: successes, failures, a refresh, a theft-free rotation.
    await loginOk(t, member.email, STRONG_PASSWORD);
    await login(t, member.email, 'Wrong-Password-1!');
    const s = await loginOk(t, member.email, STRONG_PASSWORD);
    await t.http.post('/v1/auth/refresh', { refreshToken: s.refreshToken });

    const res = await t.http.get('/v1/security/dashboard', { token: admin.accessToken });
    expect(res.status).toBe(200);
    const d = res.body.data;
    const count = async (types: string[]) =>
      (
        await t.dataSource.query(
          `SELECT count(*)::int AS n FROM security_events WHERE team_id = $1 AND event_type = ANY($2) AND created_at >= now() - interval '24 hours'`,
          [admin.teamId, types],
        )
      )[0].n as number;
    expect(d.successfulLogins).toBe(await count(['login_success']));
    expect(d.failedLogins).toBe(await count(['login_failed', 'lockout_attempt_while_locked']));
    expect(d.loginAttempts).toBe(d.successfulLogins + d.failedLogins);
    expect(d.lockouts).toBe(await count(['account_locked']));
    expect(d.tokenRefreshes).toBe(await count(['token_refreshed']));
    expect(d.theftDetections).toBe(await count(['token_theft_detected']));
    expect(d.geoAnomalies).toBe(await count(['geo_anomaly_detected']));
    const [{ n: live }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM sessions WHERE team_id = $1 AND revoked_at IS NULL AND expires_at > now()`,
      [admin.teamId],
    );
    expect(d.activeSessions).toBe(live);
    expect(d.successfulLogins).toBeGreaterThanOrEqual(3);
    expect(d.tokenRefreshes).toBe(1);
    expect(typeof d.averageSessionDurationSeconds).toBe('number');
    expect(d.eventsByHour.length).toBeGreaterThanOrEqual(1);
  });

  it('the event log filters by type, severity and time, newest first, in keyset pages, for the caller’s team only', async () => {
    const admin = await registerTeam(t);
    for (let i = 0; i < 3; i++) await login(t, admin.email, 'Wrong-Password-1!');
    const all = await t.http.get('/v1/security-events?eventType=login_failed', { token: admin.accessToken });
    expect(all.status).toBe(200);
    expect(all.body.data).toHaveLength(3);
    expect(all.body.data.every((e: { eventType: string }) => e.eventType === 'login_failed')).toBe(true);
    const page1 = await t.http.get('/v1/security-events?limit=2', { token: admin.accessToken });
    expect(page1.body.data).toHaveLength(2);
    const page2 = await t.http.get(`/v1/security-events?limit=2&cursor=${page1.body.meta.nextCursor}`, {
      token: admin.accessToken,
    });
    const ids = [...page1.body.data, ...page2.body.data].map((e: { id: string }) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const high = await t.http.get('/v1/security-events?severity=high', { token: admin.accessToken });
    expect(high.body.data.every((e: { severity: string }) => e.severity === 'high')).toBe(true);
    const future = await t.http.get(`/v1/security-events?from=${new Date(Date.now() + 60_000).toISOString()}`, {
      token: admin.accessToken,
    });
    expect(future.body.data).toEqual([]);
    const bad = await t.http.get('/v1/security-events?eventType=nope&cursor=zzz', { token: admin.accessToken });
    expect(bad.status).toBe(400);
    const other = await registerTeam(t);
    const theirs = await t.http.get('/v1/security-events?eventType=login_failed', { token: other.accessToken });
    expect(theirs.body.data).toEqual([]);
  });

  it('a login far from the previous one writes geo_anomaly_detected', async () => {
    const a = await registerTeam(t);
    // London (81.2.69.160), then about 3,400 miles away in the US (8.8.8.8).
    await loginOk(t, a.email, STRONG_PASSWORD, { headers: { 'x-forwarded-for': '81.2.69.160' } });
    await loginOk(t, a.email, STRONG_PASSWORD, { headers: { 'x-forwarded-for': '8.8.8.8' } });
    let row: { details: { miles: number } } | undefined;
    const deadline = Date.now() + 5000;
    while (!row && Date.now() < deadline) {
      [row] = await t.dataSource.query(
        `SELECT details FROM security_events WHERE event_type = 'geo_anomaly_detected' AND user_id = $1`,
        [a.userId],
      );
      if (!row) await new Promise((r) => setTimeout(r, 50));
    }
    expect(row).toBeDefined();
    expect(row!.details.miles).toBeGreaterThan(3000);
    // Nearby logins do not. The check runs after the login has been answered: wait for that check itself (the
    // one for the second login) to finish, then look for the event it would have written.
    const checks = jest.spyOn(t.app.get(GeoAnomalyService), 'check');
    const b = await registerTeam(t);
    await loginOk(t, b.email, STRONG_PASSWORD, { headers: { 'x-forwarded-for': '81.2.69.160' } });
    await loginOk(t, b.email, STRONG_PASSWORD, { headers: { 'x-forwarded-for': '81.2.69.161' } });
    const checkOf = () =>
      checks.mock.calls.findIndex(([event]) => event.userId === b.userId && event.ipAddress === '81.2.69.161');
    const checkDeadline = Date.now() + 5000;
    while (checkOf() < 0 && Date.now() < checkDeadline) await new Promise((r) => setTimeout(r, 20));
    expect(checkOf()).toBeGreaterThanOrEqual(0);
    // It compared the two logins and found them close (a distance, not null), under the threshold.
    const miles = await checks.mock.results[checkOf()]!.value;
    checks.mockRestore();
    expect(miles).not.toBeNull();
    expect(miles).toBeLessThanOrEqual(500);
    const none = await t.dataSource.query(
      `SELECT 1 FROM security_events WHERE event_type = 'geo_anomaly_detected' AND user_id = $1`,
      [b.userId],
    );
    expect(none).toEqual([]);
  });

  it('security:check --url probes the running server', async () => {
    const results = await probeServer({ url: t.baseUrl });
    const failing = results.filter((r) => !r.pass).map((r) => r.id);
    expect(failing).toEqual([]);
    expect(score(results)).toBe(10);
  });
});

describe('device fingerprint check', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { ENABLE_DEVICE_FINGERPRINT_CHECK: 'true' } });
  });
  afterAll(() => t.close());

  it('a session refreshed from another device is revoked', async () => {
    const chrome = {
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/121.0.0.0 Safari/537.36',
      'accept-language': 'en-US',
    };
    const a = await registerTeam(t, {}, chrome);
    const same = await t.http.post('/v1/auth/refresh', { refreshToken: a.refreshToken }, { headers: chrome });
    expect(same.status).toBe(200);
    const stolen = await t.http.post(
      '/v1/auth/refresh',
      { refreshToken: same.body.data.refreshToken },
      { headers: { 'user-agent': 'python-requests/2.32' } },
    );
    expect(stolen.status).toBe(401);
    expect(stolen.body.error.code).toBe('INVALID_REFRESH_TOKEN');
    const [event] = await t.dataSource.query(
      `SELECT severity FROM security_events WHERE event_type = 'device_mismatch' AND user_id = $1`,
      [a.userId],
    );
    expect(event.severity).toBe('high');
    expect((await t.http.get('/v1/auth/me', { token: same.body.data.accessToken })).status).toBe(401);
  });
});
