import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ManualClock } from '../src/common/time/clock';
import { type TestApp, TEST_JWT_SECRET, startTestApp } from './helpers/test-app';
import { STRONG_PASSWORD, loginOk, registerTeam, uniqueEmail } from './helpers/auth';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('auth: access tokens, refresh rotation and reuse detection', () => {
  let t: TestApp;
  const clock = new ManualClock();
  beforeAll(async () => {
    t = await startTestApp({ clock, env: { REFRESH_TOKEN_REUSE_GRACE_SECONDS: '1' } });
  });
  afterAll(() => t.close());

  it('register → login → me, with the contract claims in the access token', async () => {
    const a = await registerTeam(t, { firstName: 'Jane', teamName: 'Sunset Realty' });
    expect(a.user).toMatchObject({ email: a.email, role: 'admin', firstName: 'Jane' });
    expect(a.user.passwordHash).toBeUndefined();
    const claims = jwt.decode(a.accessToken, { complete: true })!;
    expect(claims.header.alg).toBe('HS256');
    expect(claims.payload).toMatchObject({
      sub: a.userId,
      team: a.teamId,
      role: 'admin',
      sid: expect.any(String),
      auth_time: expect.any(Number),
      exp: expect.any(Number),
    });
    expect((claims.payload as { exp: number; iat: number }).exp - (claims.payload as { iat: number }).iat).toBe(900);

    const me = await t.http.get('/v1/auth/me', { token: a.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.data).toMatchObject({ type: 'user', id: a.userId, email: a.email, teamId: a.teamId });
  });

  it('refuses a token signed with another secret, alg none, an expired one, and garbage', async () => {
    const a = await registerTeam(t);
    const payload = jwt.decode(a.accessToken) as Record<string, unknown>;
    const { exp: _exp, iat: _iat, ...claims } = payload;
    const forged = jwt.sign(claims, 'an-old-secret-that-is-long-enough-0123456789', { expiresIn: 600 });
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
    const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...payload, role: 'admin' })}`;
    const tampered = `${unsigned}.${createHmac('sha256', 'wrong').update(unsigned).digest('base64url')}`;
    const expired = jwt.sign(
      { ...claims, iat: Math.floor(Date.now() / 1000) - 1000, exp: Math.floor(Date.now() / 1000) - 10 },
      TEST_JWT_SECRET,
    );
    for (const token of [forged, none, tampered, 'not.a.jwt', 'x']) {
      const res = await t.http.get('/v1/auth/me', { token });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHENTICATED');
    }
    const exp = await t.http.get('/v1/auth/me', { token: expired });
    expect(exp.status).toBe(401);
    expect(exp.body.error.message).toBe('Access token expired');
    expect((await t.http.get('/v1/auth/me')).status).toBe(401);
  });

  it('an access token dies with its session (logout, logout-all, revoke) at once', async () => {
    const a = await registerTeam(t);
    const b = await loginOk(t, a.email, STRONG_PASSWORD);
    expect((await t.http.get('/v1/auth/me', { token: b.accessToken })).status).toBe(200);
    const logout = await t.http.post('/v1/auth/logout', undefined, { cookie: b.cookie });
    expect(logout.status).toBe(200);
    expect(logout.cookies.refresh_token).toMatch(/refresh_token=;/);
    expect((await t.http.get('/v1/auth/me', { token: b.accessToken })).status).toBe(401);
    // The refresh token is dead too.
    const after = await t.http.post('/v1/auth/refresh', undefined, { cookie: b.cookie });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('INVALID_REFRESH_TOKEN');
    // The other session is untouched, until logout-all.
    expect((await t.http.get('/v1/auth/me', { token: a.accessToken })).status).toBe(200);
    const c = await loginOk(t, a.email, STRONG_PASSWORD);
    const all = await t.http.post('/v1/auth/logout-all', undefined, { token: a.accessToken });
    expect(all.body.data.revokedSessions).toBe(2);
    expect((await t.http.get('/v1/auth/me', { token: a.accessToken })).status).toBe(401);
    expect((await t.http.get('/v1/auth/me', { token: c.accessToken })).status).toBe(401);
    expect((await t.http.post('/v1/auth/refresh', undefined, { cookie: c.cookie })).status).toBe(401);
  });

  it('the refresh cookie is httpOnly, SameSite=Strict, scoped to /v1/auth', async () => {
    const res = await t.http.post('/v1/auth/register', {
      email: uniqueEmail(),
      password: STRONG_PASSWORD,
      firstName: 'C',
      lastName: 'K',
      teamName: 'T',
    });
    const cookie = res.cookies.refresh_token;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\/v1\/auth/);
    expect(cookie).toMatch(/Max-Age=604800/);
    expect(res.body.data.refreshToken).toBeUndefined();
  });

  it('rotation: the presented token dies; its successor works; body tokens for non-browser clients', async () => {
    const a = await registerTeam(t);
    const r1 = await t.http.post('/v1/auth/refresh', { refreshToken: a.refreshToken });
    expect(r1.status).toBe(200);
    expect(r1.body.data).toMatchObject({
      accessToken: expect.any(String),
      expiresIn: 900,
      refreshToken: expect.any(String),
    });
    expect(r1.body.data.refreshToken).not.toBe(a.refreshToken);
    expect((await t.http.get('/v1/auth/me', { token: r1.body.data.accessToken })).status).toBe(200);
    // Immediate predecessor within the grace: refused, nothing revoked.
    const again = await t.http.post('/v1/auth/refresh', { refreshToken: a.refreshToken });
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe('INVALID_REFRESH_TOKEN');
    const r2 = await t.http.post('/v1/auth/refresh', { refreshToken: r1.body.data.refreshToken });
    expect(r2.status).toBe(200);
  });

  it('reuse of a rotated token after the grace revokes every session of the user and writes a critical event', async () => {
    const a = await registerTeam(t);
    const other = await loginOk(t, a.email, STRONG_PASSWORD);
    const r1 = await t.http.post('/v1/auth/refresh', { refreshToken: a.refreshToken });
    expect(r1.status).toBe(200);
    clock.advance(1200);
    const stolen = await t.http.post('/v1/auth/refresh', { refreshToken: a.refreshToken });
    expect(stolen.status).toBe(401);
    expect(stolen.body.error.code).toBe('TOKEN_REUSE_DETECTED');
    // Every session of the user is gone: the thief's, the victim's rotated one, and the other device.
    for (const token of [r1.body.data.refreshToken, other.refreshToken]) {
      const res = await t.http.post('/v1/auth/refresh', { refreshToken: token });
      expect(res.status).toBe(401);
    }
    expect((await t.http.get('/v1/auth/me', { token: other.accessToken })).status).toBe(401);
    const [event] = await t.dataSource.query(
      `SELECT severity, team_id FROM security_events WHERE event_type = 'token_theft_detected' AND user_id = $1`,
      [a.userId],
    );
    expect(event).toEqual({ severity: 'critical', team_id: a.teamId });
    const [{ live }] = await t.dataSource.query(
      `SELECT count(*)::int AS live FROM sessions WHERE user_id = $1 AND revoked_at IS NULL`,
      [a.userId],
    );
    expect(live).toBe(0);
  });

  it('an older ancestor (not the immediate predecessor) is reuse even inside the grace', async () => {
    const a = await registerTeam(t);
    const r1 = await t.http.post('/v1/auth/refresh', { refreshToken: a.refreshToken });
    const r2 = await t.http.post('/v1/auth/refresh', { refreshToken: r1.body.data.refreshToken });
    expect(r2.status).toBe(200);
    const res = await t.http.post('/v1/auth/refresh', { refreshToken: a.refreshToken });
    expect(res.body.error.code).toBe('TOKEN_REUSE_DETECTED');
  });

  it('sessions: list with device and current, revoke one (404 for someone else’s)', async () => {
    const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36';
    const a = await registerTeam(t, {}, { 'user-agent': ua });
    const b = await loginOk(t, a.email, STRONG_PASSWORD, { headers: { 'user-agent': 'curl/8.5.0' } });
    const list = await t.http.get('/v1/auth/sessions', { token: a.accessToken });
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(2);
    const mine = list.body.data.find((s: { current: boolean }) => s.current);
    expect(mine).toMatchObject({
      device: 'Chrome 121 on Linux',
      ip: '127.0.0.1',
      createdAt: expect.any(String),
      lastUsedAt: expect.any(String),
    });
    const otherId = list.body.data.find((s: { current: boolean }) => !s.current).id;

    const stranger = await registerTeam(t);
    expect((await t.http.delete(`/v1/auth/sessions/${otherId}`, { token: stranger.accessToken })).status).toBe(404);
    expect((await t.http.delete(`/v1/auth/sessions/not-a-uuid`, { token: a.accessToken })).status).toBe(400);
    expect((await t.http.delete(`/v1/auth/sessions/${otherId}`, { token: a.accessToken })).status).toBe(200);
    expect((await t.http.get('/v1/auth/me', { token: b.accessToken })).status).toBe(401);
  });

  it('stores no raw refresh token', async () => {
    const a = await registerTeam(t);
    const rows = await t.dataSource.query(`SELECT * FROM sessions WHERE user_id = $1`, [a.userId]);
    expect(JSON.stringify(rows)).not.toContain(a.refreshToken);
  });
});

/**
 * Session limits with the default SESSION_INACTIVITY_TIMEOUT_MINUTES (60) and SESSION_ABSOLUTE_TIMEOUT_HOURS (12),
 * on a ManualClock: each test moves time instead of sleeping (the clock only moves forward, and each test has its
 * own user, so the tests do not disturb each other).
 */
describe('auth: session limits', () => {
  let t: TestApp;
  const clock = new ManualClock();
  const MINUTE = 60_000;
  beforeAll(async () => {
    t = await startTestApp({ clock });
  });
  afterAll(() => t.close());

  const refresh = (refreshToken: string) => t.http.post('/v1/auth/refresh', { refreshToken });
  const revokedReason = async (userId: string) =>
    (await t.dataSource.query(`SELECT revoked_reason FROM sessions WHERE user_id = $1`, [userId]))[0].revoked_reason;

  it('an idle session ends after SESSION_INACTIVITY_TIMEOUT_MINUTES; each use restarts the count', async () => {
    const a = await registerTeam(t);
    clock.advanceMinutes(59);
    const r1 = await refresh(a.refreshToken);
    expect(r1.status).toBe(200);
    clock.advanceMinutes(59);
    const r2 = await refresh(r1.body.data.refreshToken);
    expect(r2.status).toBe(200);
    clock.advanceMinutes(61);
    const idle = await refresh(r2.body.data.refreshToken);
    expect(idle.status).toBe(401);
    expect(idle.body.error.code).toBe('INVALID_REFRESH_TOKEN');
    expect(await revokedReason(a.userId)).toBe('idle');
    // Ended for good: moving on does not bring it back, and its sessions list is empty.
    const again = await loginOk(t, a.email, STRONG_PASSWORD);
    const list = await t.http.get('/v1/auth/sessions', { token: again.accessToken });
    expect(list.body.data.map((x: { current: boolean }) => x.current)).toEqual([true]);
  });

  it('a session used all along still ends at SESSION_ABSOLUTE_TIMEOUT_HOURS, and its access tokens with it', async () => {
    const a = await registerTeam(t);
    let token = a.refreshToken;
    // Refreshed every 50 minutes (never idle) up to 11 h 40 min, then once more at 11 h 50 min.
    const steps = [...Array<number>(14).fill(50), 10];
    for (const [i, minutes] of steps.entries()) {
      clock.advanceMinutes(minutes);
      const res = await refresh(token);
      expect([i, res.status]).toEqual([i, 200]);
      token = res.body.data.refreshToken;
      if (i === steps.length - 1) {
        const accessToken = res.body.data.accessToken;
        expect((await t.http.get('/v1/auth/me', { token: accessToken })).status).toBe(200);
        // 12 h 01 min: the access token is 11 minutes old (valid for 15), but its session is over.
        clock.advanceMinutes(11);
        const me = await t.http.get('/v1/auth/me', { token: accessToken });
        expect(me.status).toBe(401);
        expect(me.body.error.message).not.toBe('Access token expired');
      }
    }
    const late = await refresh(token);
    expect(late.status).toBe(401);
    expect(late.body.error.code).toBe('INVALID_REFRESH_TOKEN');
    expect(await revokedReason(a.userId)).toBe('absolute');
  });

  it('an access token expires by the clock (JWT_EXPIRATION), whatever the wall clock says', async () => {
    const a = await registerTeam(t);
    clock.advance(14 * MINUTE);
    expect((await t.http.get('/v1/auth/me', { token: a.accessToken })).status).toBe(200);
    clock.advance(MINUTE + 1000);
    const res = await t.http.get('/v1/auth/me', { token: a.accessToken });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toBe('Access token expired');
    // The session itself is fine: a refresh gives a working token.
    const next = await refresh(a.refreshToken);
    expect(next.status).toBe(200);
    expect((await t.http.get('/v1/auth/me', { token: next.body.data.accessToken })).status).toBe(200);
  });
});

// The race needs the default grace: with the 1 s grace above, a loaded machine can answer a loser after the
// grace has passed, which is then (correctly) reuse, not the race this test is about.
describe('auth: racing refreshes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { REFRESH_TOKEN_REUSE_GRACE_SECONDS: '60' } });
  });
  afterAll(() => t.close());

  it('50 parallel refreshes of one token: exactly one wins and exactly one new token is usable', async () => {
    const a = await registerTeam(t);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => t.http.post('/v1/auth/refresh', { refreshToken: a.refreshToken })),
    );
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) expect(r.body.error.code).toBe('INVALID_REFRESH_TOKEN');
    const next = winners[0]!.body.data.refreshToken;
    expect((await t.http.post('/v1/auth/refresh', { refreshToken: next })).status).toBe(200);
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL`,
      [a.userId],
    );
    expect(n).toBe(1);
  });
});
