import { type TestApp, startTestApp } from './helpers/test-app';
import { STRONG_PASSWORD, login, loginOk, registerTeam, uniqueEmail } from './helpers/auth';
import { readOutbox, waitForMail } from './helpers/outbox';
import { MailService } from '../src/modules/notifications/mail.service';

describe('auth: passwords, reset, re-auth and devices', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { PUBLIC_URL: 'https://crm.example.com', ENABLE_EMAIL_LOGIN_NOTIFICATIONS: 'true' },
    });
  });
  afterAll(() => t.close());

  it('register refuses weak and breached passwords with one detail per rule, duplicates (any case) and unknown fields', async () => {
    const weak = await t.http.post('/v1/auth/register', {
      email: uniqueEmail(),
      password: 'password',
      firstName: 'A',
      lastName: 'B',
      teamName: 'T',
    });
    expect(weak.status).toBe(400);
    expect(weak.body.error.code).toBe('VALIDATION_ERROR');
    expect(weak.body.error.details[0].errors).toEqual(
      expect.arrayContaining([
        'Password must be at least 12 characters',
        'Password must contain at least one uppercase letter',
        'Password must contain at least one number',
        'Password must contain at least one special character',
        'This password is too common or appears in breach lists; choose another',
      ]),
    );
    const breached = await t.http.post('/v1/auth/register', {
      email: uniqueEmail(),
      password: 'Password123456!',
      firstName: 'A',
      lastName: 'B',
      teamName: 'T',
    });
    expect(breached.status).toBe(400);

    const a = await registerTeam(t);
    const dup = await t.http.post('/v1/auth/register', {
      email: a.email.toUpperCase(),
      password: STRONG_PASSWORD,
      firstName: 'A',
      lastName: 'B',
      teamName: 'T',
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('CONFLICT');

    const extra = await t.http.post('/v1/auth/register', {
      email: uniqueEmail(),
      password: STRONG_PASSWORD,
      firstName: 'A',
      lastName: 'B',
      teamName: 'T',
      role: 'admin',
    });
    expect(extra.status).toBe(400);
    expect(extra.body.error.details).toEqual([{ field: 'role', errors: ['role is not an allowed field'] }]);
    const missing = await t.http.post('/v1/auth/register', { email: 'not-an-email', password: STRONG_PASSWORD });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'email',
      'firstName',
      'lastName',
      'teamName',
    ]);
  });

  it('the reset link from the mail works once; all sessions are revoked; recent passwords are refused', async () => {
    const a = await registerTeam(t);
    const other = await loginOk(t, a.email, STRONG_PASSWORD);
    const res = await t.http.post('/v1/auth/forgot-password', { email: a.email });
    expect(res.status).toBe(202);
    const mail = await waitForMail(t, (m) => m.to.includes(a.email) && /Reset/.test(m.subject));
    const link = /https:\/\/crm\.example\.com\/console\/#\/reset-password\?token=([\w%-]+)/.exec(mail.text);
    expect(link).not.toBeNull();
    const token = decodeURIComponent(link![1]!);

    const reused = await t.http.post('/v1/auth/reset-password', { token, password: STRONG_PASSWORD });
    expect(reused.status).toBe(400);
    expect(reused.body.error.message).toMatch(/not used recently/);

    const next = 'Granite-Lantern-Otter-77#';
    const ok = await t.http.post('/v1/auth/reset-password', { token, password: next });
    expect(ok.status).toBe(200);
    expect(ok.body.data).toEqual({ reset: true });
    expect(ok.cookies.refresh_token).toBeUndefined();
    const second = await t.http.post('/v1/auth/reset-password', { token, password: 'Another-Fresh-Pass-88!' });
    expect(second.status).toBe(400);
    expect(second.body.error.code).toBe('VALIDATION_ERROR');

    expect((await t.http.post('/v1/auth/refresh', { refreshToken: other.refreshToken })).status).toBe(401);
    expect((await t.http.get('/v1/auth/me', { token: a.accessToken })).status).toBe(401);
    expect((await login(t, a.email, STRONG_PASSWORD)).status).toBe(401);
    expect((await login(t, a.email, next)).status).toBe(200);
    const stored = await t.dataSource.query(`SELECT token_hash FROM password_reset_tokens`);
    expect(JSON.stringify(stored)).not.toContain(token);
  });

  it('forgot-password answers 202 for unknown addresses too, and mails nothing', async () => {
    const marker = await registerTeam(t);
    const before = readOutbox(t).length;
    const res = await t.http.post('/v1/auth/forgot-password', { email: uniqueEmail('nobody') });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ success: true, data: { accepted: true } });
    // The lookup happens after the answer. A later request for a known address, whose mail arrives, has been
    // through the same steps after the unknown one: once its mail is there, the only new mail is that one.
    const known = await t.http.post('/v1/auth/forgot-password', { email: marker.email });
    expect(known.status).toBe(202);
    await waitForMail(t, (m) => m.to.includes(marker.email) && /Reset your/.test(m.subject));
    const added = readOutbox(t).slice(before);
    expect(added.map((m) => m.to)).toEqual([expect.stringContaining(marker.email)]);
  });

  it('change-password: wrong current → 401; the last 3 are refused; other sessions are revoked, this one stays', async () => {
    const a = await registerTeam(t);
    const other = await loginOk(t, a.email, STRONG_PASSWORD);
    const wrong = await t.http.post(
      '/v1/auth/change-password',
      { currentPassword: 'Nope-Nope-123!', newPassword: 'Fresh-Otter-Pass-55!' },
      { token: a.accessToken },
    );
    expect(wrong.status).toBe(401);
    const passwords = ['Fresh-Otter-Pass-55!', 'Quiet-Maple-Drum-66!', 'Silver-Comet-Lake-77!'];
    let current = STRONG_PASSWORD;
    for (const next of passwords) {
      const res = await t.http.post(
        '/v1/auth/change-password',
        { currentPassword: current, newPassword: next },
        { token: a.accessToken },
      );
      expect(res.status).toBe(200);
      current = next;
    }
    expect((await t.http.get('/v1/auth/me', { token: a.accessToken })).status).toBe(200);
    expect((await t.http.get('/v1/auth/me', { token: other.accessToken })).status).toBe(401);
    for (const old of [passwords[0], passwords[1], passwords[2]]) {
      const res = await t.http.post(
        '/v1/auth/change-password',
        { currentPassword: current, newPassword: old },
        { token: a.accessToken },
      );
      expect(res.status).toBe(400);
    }
    // Four changes ago is allowed again.
    const back = await t.http.post(
      '/v1/auth/change-password',
      { currentPassword: current, newPassword: STRONG_PASSWORD },
      { token: a.accessToken },
    );
    expect(back.status).toBe(200);
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM security_events WHERE event_type = 'password_changed' AND user_id = $1`,
      [a.userId],
    );
    expect(n).toBe(4);
  });

  it('reauth refreshes auth_time; a wrong password is refused', async () => {
    const a = await registerTeam(t);
    const before = (await t.http.get('/v1/auth/me', { token: a.accessToken })).body.data.authTime;
    await new Promise((r) => setTimeout(r, 1100));
    expect(
      (await t.http.post('/v1/auth/reauth', { password: 'Wrong-Password-1!' }, { token: a.accessToken })).status,
    ).toBe(401);
    const ok = await t.http.post('/v1/auth/reauth', { password: STRONG_PASSWORD }, { token: a.accessToken });
    expect(ok.status).toBe(200);
    const after = (await t.http.get('/v1/auth/me', { token: ok.body.data.accessToken })).body.data.authTime;
    expect(new Date(after).getTime()).toBeGreaterThan(new Date(before).getTime());
    // A refreshed access token keeps the session's last password entry, not the refresh time.
    const refreshed = await t.http.post('/v1/auth/refresh', { refreshToken: a.refreshToken });
    expect((await t.http.get('/v1/auth/me', { token: refreshed.body.data.accessToken })).body.data.authTime).toBe(
      after,
    );
  });

  it('mails the user on login from a new device, not from a known one', async () => {
    const firefox = {
      'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0',
    };
    const a = await registerTeam(t, {}, firefox);
    // A new-device mail is handed to MailService.send before the login answers (the send itself may finish later).
    const sends = jest.spyOn(t.app.get(MailService), 'send');
    const newSignIns = () => sends.mock.calls.filter(([m]) => m.to === a.email && /New sign-in/.test(m.subject));
    await loginOk(t, a.email, STRONG_PASSWORD, { headers: firefox });
    expect(newSignIns()).toHaveLength(0);
    await loginOk(t, a.email, STRONG_PASSWORD, {
      headers: { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1' },
    });
    expect(newSignIns()).toHaveLength(1);
    sends.mockRestore();
    const mail = await waitForMail(t, (m) => m.to.includes(a.email) && /New sign-in/.test(m.subject));
    expect(mail.text).toContain('iOS');
    // The outbox agrees: the known device's login, earlier than this mail, mailed nothing.
    expect(readOutbox(t).filter((m) => m.to.includes(a.email) && /New sign-in/.test(m.subject))).toHaveLength(1);
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM security_events WHERE event_type = 'new_device_login' AND user_id = $1`,
      [a.userId],
    );
    expect(n).toBe(1);
  });
});
