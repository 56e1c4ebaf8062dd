import { STRONG_PASSWORD, type SignedIn, loginOk, registerTeam } from './helpers/auth';
import { codeAt, enrolMfa } from './helpers/mfa';
import { waitForMail } from './helpers/outbox';
import { type TestApp, startTestApp } from './helpers/test-app';

const NEW_PASSWORD = 'Amber-Vessel-Lantern-77!';

/**
 * Turning 2FA on or off and changing the password end every OTHER session of the user (the one that made the
 * change stays) and mail the user (contract, Auth). Logout, logout-all and revoking one session are events.
 */
describe('account changes revoke the other sessions and tell the user', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const alive = async (s: SignedIn) => (await t.http.get('/v1/auth/me', { token: s.accessToken })).status === 200;
  const events = (userId: string, type: string) =>
    t.dataSource.query(`SELECT severity, details FROM security_events WHERE user_id = $1 AND event_type = $2`, [
      userId,
      type,
    ]);

  it('2FA on: the other sessions die (access and refresh), this one stays; a mail says so', async () => {
    const a = await registerTeam(t);
    const b = await loginOk(t, a.email, a.password);
    const c = await loginOk(t, a.email, a.password);
    const setup = await t.http.post('/v1/auth/2fa/setup', undefined, { token: a.accessToken });
    const enable = await t.http.post(
      '/v1/auth/2fa/enable',
      { code: codeAt(setup.body.data.secret) },
      { token: a.accessToken },
    );
    expect(enable.status).toBe(200);
    expect(await alive(a)).toBe(true);
    for (const s of [b, c]) {
      expect(await alive(s)).toBe(false);
      expect((await t.http.post('/v1/auth/refresh', { refreshToken: s.refreshToken })).status).toBe(401);
    }
    expect((await t.http.post('/v1/auth/refresh', { refreshToken: a.refreshToken })).status).toBe(200);
    const mail = await waitForMail(t, (m) => m.to.includes(a.email) && /is on/.test(m.subject));
    expect(mail.text).toMatch(/2 other sessions were signed out/);
    expect(mail.text).toMatch(/127\.0\.0\.1/);
    const [event] = await events(a.userId, 'mfa_enabled');
    expect(event.details).toMatchObject({ otherSessionsRevoked: 2 });
  });

  it('2FA off: the other sessions die, this one stays; a mail says so', async () => {
    const a = await registerTeam(t);
    const { backupCodes } = await enrolMfa(t, a.accessToken);
    const b = await loginOk(t, a.email, a.password, { otp: backupCodes[0] });
    const off = await t.http.post(
      '/v1/auth/2fa/disable',
      { password: STRONG_PASSWORD, code: backupCodes[1] },
      { token: a.accessToken },
    );
    expect(off.status).toBe(200);
    expect(await alive(a)).toBe(true);
    expect(await alive(b)).toBe(false);
    const mail = await waitForMail(t, (m) => m.to.includes(a.email) && /is off/.test(m.subject));
    expect(mail.text).toMatch(/1 other session was signed out/);
  });

  it('password change: the other sessions die, this one stays; a mail says so', async () => {
    const a = await registerTeam(t);
    const b = await loginOk(t, a.email, a.password);
    const res = await t.http.post(
      '/v1/auth/change-password',
      { currentPassword: STRONG_PASSWORD, newPassword: NEW_PASSWORD },
      { token: a.accessToken },
    );
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ revokedSessions: 1 });
    expect(await alive(a)).toBe(true);
    expect(await alive(b)).toBe(false);
    const mail = await waitForMail(t, (m) => m.to.includes(a.email) && /password was changed/.test(m.subject));
    expect(mail.text).toMatch(/1 other session was signed out/);
    expect(mail.text).not.toContain(NEW_PASSWORD);
  });

  it('logout, logout-all and revoking one session are events of the user', async () => {
    const a = await registerTeam(t);
    const b = await loginOk(t, a.email, a.password);
    const c = await loginOk(t, a.email, a.password);
    const sidOf = (s: SignedIn) =>
      JSON.parse(Buffer.from(s.accessToken.split('.')[1]!, 'base64url').toString('utf8')).sid as string;

    expect((await t.http.delete(`/v1/auth/sessions/${sidOf(b)}`, { token: a.accessToken })).status).toBe(200);
    expect(await alive(b)).toBe(false);
    const [revoked] = await events(a.userId, 'session_revoked');
    expect(revoked.details).toMatchObject({ sessionId: sidOf(b), current: false });
    // Someone else's or an already revoked session: 404 and no event.
    expect((await t.http.delete(`/v1/auth/sessions/${sidOf(b)}`, { token: a.accessToken })).status).toBe(404);
    expect(await events(a.userId, 'session_revoked')).toHaveLength(1);

    expect((await t.http.post('/v1/auth/logout', undefined, { cookie: c.cookie })).status).toBe(200);
    expect(await alive(c)).toBe(false);
    const [loggedOut] = await events(a.userId, 'logout');
    expect(loggedOut.details).toMatchObject({ sessionId: sidOf(c) });
    // A dead or unknown token logs nobody out and writes nothing.
    expect((await t.http.post('/v1/auth/logout', { refreshToken: c.refreshToken })).status).toBe(200);
    expect((await t.http.post('/v1/auth/logout', { refreshToken: 'nonsense' })).status).toBe(200);
    expect(await events(a.userId, 'logout')).toHaveLength(1);

    const all = await t.http.post('/v1/auth/logout-all', undefined, { token: a.accessToken });
    expect(all.status).toBe(200);
    expect(await alive(a)).toBe(false);
    const outs = await events(a.userId, 'logout');
    expect(outs).toHaveLength(2);
    expect(outs.map((e: { details: Record<string, unknown> }) => e.details)).toContainEqual(
      expect.objectContaining({ allSessions: true, sessionsRevoked: 1 }),
    );
  });
});
