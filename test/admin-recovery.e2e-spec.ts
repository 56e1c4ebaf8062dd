import { STRONG_PASSWORD, type SignedIn, login, loginOk, registerTeam, uniqueEmail } from './helpers/auth';
import { enrolMfa } from './helpers/mfa';
import { readOutbox, waitForMail } from './helpers/outbox';
import { type TestApp, startTestApp } from './helpers/test-app';

const WRONG = 'Wrong-Password-123!';

/**
 * Admin recovery (contract, Users): POST /v1/users/:id/unlock clears a lockout; DELETE /v1/users/:id/2fa turns
 * off a member's 2FA (lost phone and codes), revokes their sessions and mails them. Both stay inside the
 * caller's team (another team's id is 404), are audited, write their event, and refuse the caller's own id.
 */
describe('admin recovery: unlock and 2FA reset', () => {
  let t: TestApp;
  let admin: SignedIn;
  let other: SignedIn;

  beforeAll(async () => {
    // User management without 2FA allowed here, so the 2FA reset's own requirement is what is tested.
    t = await startTestApp({ env: { MAX_LOGIN_ATTEMPTS: '3', REQUIRE_MFA_FOR_ADMIN_ACTIONS: 'false' } });
    admin = await registerTeam(t);
    await enrolMfa(t, admin.accessToken);
    other = await registerTeam(t);
    await enrolMfa(t, other.accessToken);
  });
  afterAll(() => t.close());

  const addMember = async (by: SignedIn, role = 'agent') => {
    const email = uniqueEmail('member');
    const res = await t.http.post(
      '/v1/users',
      { email, password: STRONG_PASSWORD, firstName: 'M', lastName: 'Ember', role },
      { token: by.accessToken },
    );
    if (res.status !== 201) throw new Error(`add member: ${res.status} ${res.text}`);
    return { id: res.body.data.id as string, email };
  };
  const events = (userId: string, type: string) =>
    t.dataSource.query(
      `SELECT severity, team_id, details FROM security_events WHERE user_id = $1 AND event_type = $2`,
      [userId, type],
    );
  const audit = (resourceId: string) =>
    t.dataSource.query(
      `SELECT action, user_id, old_values, new_values FROM audit_log WHERE resource_type = 'user' AND resource_id = $1 ORDER BY seq`,
      [resourceId],
    );
  const lockRow = async (id: string) =>
    (await t.dataSource.query(`SELECT failed_login_attempts, locked_until FROM users WHERE id = $1`, [id]))[0];

  describe('POST /v1/users/:id/unlock', () => {
    it('clears a lock set by wrong answers: the member signs in again; event and audit row', async () => {
      const member = await addMember(admin);
      for (let i = 0; i < 3; i++) await login(t, member.email, WRONG);
      expect((await login(t, member.email, STRONG_PASSWORD)).status).toBe(423);
      const locked = await lockRow(member.id);

      const res = await t.http.post(`/v1/users/${member.id}/unlock`, undefined, { token: admin.accessToken });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ id: member.id, email: member.email });
      expect(res.text).not.toMatch(/password|locked_until|failed/i);
      expect(await lockRow(member.id)).toEqual({ failed_login_attempts: 0, locked_until: null });
      expect((await login(t, member.email, STRONG_PASSWORD)).status).toBe(200);

      const [event] = await events(member.id, 'account_unlocked');
      expect(event).toMatchObject({ severity: 'medium', team_id: admin.teamId });
      expect(event.details).toMatchObject({ unlockedBy: admin.userId, wasLocked: true });
      const rows = await audit(member.id);
      expect(rows.at(-1)).toEqual({
        action: 'UPDATE',
        user_id: admin.userId,
        old_values: { failedLoginAttempts: 3, lockedUntil: locked.locked_until.toISOString() },
        new_values: { failedLoginAttempts: 0, lockedUntil: null },
      });
    });

    it("another team's user is 404 and stays locked; own id is 400; agents are 403; a bad id is 400", async () => {
      const stranger = await addMember(other);
      for (let i = 0; i < 3; i++) await login(t, stranger.email, WRONG);
      const res = await t.http.post(`/v1/users/${stranger.id}/unlock`, undefined, { token: admin.accessToken });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
      expect((await lockRow(stranger.id)).locked_until).not.toBeNull();
      expect(await events(stranger.id, 'account_unlocked')).toHaveLength(0);

      const self = await t.http.post(`/v1/users/${admin.userId}/unlock`, undefined, { token: admin.accessToken });
      expect(self.status).toBe(400);
      expect(self.body.error.code).toBe('VALIDATION_ERROR');

      const agent = await addMember(admin);
      const agentIn = await loginOk(t, agent.email, STRONG_PASSWORD);
      const byAgent = await t.http.post(`/v1/users/${stranger.id}/unlock`, undefined, { token: agentIn.accessToken });
      expect(byAgent.status).toBe(403);

      expect((await t.http.post(`/v1/users/not-a-uuid/unlock`, undefined, { token: admin.accessToken })).status).toBe(
        400,
      );
    });
  });

  describe('DELETE /v1/users/:id/2fa', () => {
    it("turns off the member's 2FA, revokes every session of theirs, mails them; event (high) and audit row", async () => {
      const member = await addMember(admin);
      const first = await loginOk(t, member.email, STRONG_PASSWORD);
      const { backupCodes } = await enrolMfa(t, first.accessToken);
      const second = await loginOk(t, member.email, STRONG_PASSWORD, { otp: backupCodes[0] });
      const mailsBefore = readOutbox(t).length;

      const res = await t.http.delete(`/v1/users/${member.id}/2fa`, { token: admin.accessToken });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ id: member.id, mfaEnabled: false });

      // Secret and backup codes are gone, not just flagged.
      expect(await t.dataSource.query(`SELECT 1 FROM user_mfa WHERE user_id = $1`, [member.id])).toHaveLength(0);
      expect(await t.dataSource.query(`SELECT 1 FROM mfa_backup_codes WHERE user_id = $1`, [member.id])).toHaveLength(
        0,
      );
      // Every session of theirs is dead: access tokens and refresh tokens.
      for (const s of [first, second]) {
        expect((await t.http.get('/v1/auth/me', { token: s.accessToken })).status).toBe(401);
        expect((await t.http.post('/v1/auth/refresh', { refreshToken: s.refreshToken })).status).toBe(401);
      }
      // The admin's own session is untouched.
      expect((await t.http.get('/v1/auth/me', { token: admin.accessToken })).status).toBe(200);
      // The member signs in with the password alone now.
      const again = await login(t, member.email, STRONG_PASSWORD);
      expect(again.status).toBe(200);

      const mail = await waitForMail(t, (m) => m.to.includes(member.email) && /was reset/.test(m.subject));
      expect(mail.text).toMatch(/admin of your team turned off two-factor authentication/);
      expect(mail.text).toMatch(/2 other sessions were signed out/);
      expect(readOutbox(t).length).toBeGreaterThan(mailsBefore);

      const [event] = await events(member.id, 'mfa_reset');
      expect(event).toMatchObject({ severity: 'high', team_id: admin.teamId });
      expect(event.details).toMatchObject({ resetBy: admin.userId, sessionsRevoked: 2 });
      expect((await audit(member.id)).at(-1)).toEqual({
        action: 'UPDATE',
        user_id: admin.userId,
        old_values: { mfaEnabled: true },
        new_values: { mfaEnabled: false },
      });

      // Again: nothing to reset.
      const twice = await t.http.delete(`/v1/users/${member.id}/2fa`, { token: admin.accessToken });
      expect(twice.status).toBe(409);
      expect(await events(member.id, 'mfa_reset')).toHaveLength(1);
    });

    it("another team's user is 404 and keeps 2FA; own id is 400", async () => {
      const stranger = await addMember(other);
      const s = await loginOk(t, stranger.email, STRONG_PASSWORD);
      await enrolMfa(t, s.accessToken);
      const res = await t.http.delete(`/v1/users/${stranger.id}/2fa`, { token: admin.accessToken });
      expect(res.status).toBe(404);
      const [row] = await t.dataSource.query(`SELECT mfa_enabled FROM users WHERE id = $1`, [stranger.id]);
      expect(row.mfa_enabled).toBe(true);
      expect((await t.http.get('/v1/auth/me', { token: s.accessToken })).status).toBe(200);

      const self = await t.http.delete(`/v1/users/${admin.userId}/2fa`, { token: admin.accessToken });
      expect(self.status).toBe(400);
      expect(self.body.error.message).toMatch(/2fa\/disable/);
      const [mine] = await t.dataSource.query(`SELECT mfa_enabled FROM users WHERE id = $1`, [admin.userId]);
      expect(mine.mfa_enabled).toBe(true);
    });

    it('needs the caller to have 2FA, even where user management does not require it', async () => {
      const member = await addMember(admin);
      const m = await loginOk(t, member.email, STRONG_PASSWORD);
      await enrolMfa(t, m.accessToken);
      // A second admin without 2FA: may manage users here (REQUIRE_MFA_FOR_ADMIN_ACTIONS=false), not reset 2FA.
      const second = await addMember(admin, 'admin');
      const secondIn = await loginOk(t, second.email, STRONG_PASSWORD);
      expect((await t.http.get('/v1/users', { token: secondIn.accessToken })).status).toBe(200);
      const res = await t.http.delete(`/v1/users/${member.id}/2fa`, { token: secondIn.accessToken });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('MFA_ENROLLMENT_REQUIRED');
    });
  });
});
