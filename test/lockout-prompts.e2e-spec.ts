import { STRONG_PASSWORD, type SignedIn, login, registerTeam } from './helpers/auth';
import { type HttpResponse } from './helpers/http';
import { codeAt, enrolMfa } from './helpers/mfa';
import { type TestApp, startTestApp } from './helpers/test-app';

const WRONG_PASSWORD = 'Wrong-Password-123!';
const WRONG_CODE = '000000';
const MAX = 3;

/**
 * Every prompt for the password or a second factor counts toward the one account lock (contract, Auth:
 * lockout): MAX_LOGIN_ATTEMPTS wrong answers at any of them lock the account, the last one answers 423, and
 * while the lock holds every prompt answers 423 even to the right secret, without verifying it (a backup
 * code offered then is still unused afterwards). Wrong codes also write mfa_failed.
 */

interface Caller {
  user: SignedIn;
  secret: string;
  codes: string[];
}

interface Prompt {
  name: string;
  /** The caller, set up for this prompt (fresh team, 2FA enrolled unless the prompt enrols). */
  setup: (t: TestApp) => Promise<Caller>;
  wrong: (t: TestApp, c: Caller) => Promise<HttpResponse>;
  wrongCode: string;
  /** Whether the wrong answer was a second factor (then mfa_failed is written). */
  secondFactor: boolean;
  /** The right answer, which must still be 423 while locked. */
  right: (t: TestApp, c: Caller) => Promise<HttpResponse>;
}

async function enrolled(t: TestApp): Promise<Caller> {
  const user = await registerTeam(t);
  const { secret, backupCodes } = await enrolMfa(t, user.accessToken);
  return { user, secret, codes: backupCodes };
}

async function enrolling(t: TestApp): Promise<Caller> {
  const user = await registerTeam(t);
  const setup = await t.http.post('/v1/auth/2fa/setup', undefined, { token: user.accessToken });
  return { user, secret: setup.body.data.secret, codes: [] };
}

const post = (t: TestApp, c: Caller, path: string, body: unknown) =>
  t.http.post(path, body, { token: c.user.accessToken });

const PROMPTS: Prompt[] = [
  {
    name: '/2fa/disable (password)',
    setup: enrolled,
    wrong: (t, c) => post(t, c, '/v1/auth/2fa/disable', { password: WRONG_PASSWORD, code: c.codes[0] }),
    wrongCode: 'INVALID_CREDENTIALS',
    secondFactor: false,
    right: (t, c) => post(t, c, '/v1/auth/2fa/disable', { password: STRONG_PASSWORD, code: c.codes[0] }),
  },
  {
    name: '/2fa/disable (code)',
    setup: enrolled,
    wrong: (t, c) => post(t, c, '/v1/auth/2fa/disable', { password: STRONG_PASSWORD, code: WRONG_CODE }),
    wrongCode: 'INVALID_MFA_CODE',
    secondFactor: true,
    right: (t, c) => post(t, c, '/v1/auth/2fa/disable', { password: STRONG_PASSWORD, code: c.codes[0] }),
  },
  {
    name: '/2fa/backup-codes (password)',
    setup: enrolled,
    wrong: (t, c) => post(t, c, '/v1/auth/2fa/backup-codes', { password: WRONG_PASSWORD, code: c.codes[0] }),
    wrongCode: 'INVALID_CREDENTIALS',
    secondFactor: false,
    right: (t, c) => post(t, c, '/v1/auth/2fa/backup-codes', { password: STRONG_PASSWORD, code: c.codes[0] }),
  },
  {
    name: '/2fa/backup-codes (code)',
    setup: enrolled,
    wrong: (t, c) => post(t, c, '/v1/auth/2fa/backup-codes', { password: STRONG_PASSWORD, code: WRONG_CODE }),
    wrongCode: 'INVALID_MFA_CODE',
    secondFactor: true,
    right: (t, c) => post(t, c, '/v1/auth/2fa/backup-codes', { password: STRONG_PASSWORD, code: c.codes[0] }),
  },
  {
    name: '/2fa/enable (code)',
    setup: enrolling,
    wrong: (t, c) => post(t, c, '/v1/auth/2fa/enable', { code: WRONG_CODE }),
    wrongCode: 'INVALID_MFA_CODE',
    secondFactor: true,
    right: (t, c) => post(t, c, '/v1/auth/2fa/enable', { code: codeAt(c.secret) }),
  },
  {
    name: 'POST /v1/api-keys (otp)',
    setup: enrolled,
    wrong: (t, c) => post(t, c, '/v1/api-keys', { name: 'k', scopes: ['clients:read'], otp: WRONG_CODE }),
    wrongCode: 'INVALID_MFA_CODE',
    secondFactor: true,
    right: (t, c) => post(t, c, '/v1/api-keys', { name: 'k', scopes: ['clients:read'], otp: c.codes[0] }),
  },
  {
    name: '/reauth (password)',
    setup: enrolled,
    wrong: (t, c) => post(t, c, '/v1/auth/reauth', { password: WRONG_PASSWORD, otp: c.codes[0] }),
    wrongCode: 'INVALID_CREDENTIALS',
    secondFactor: false,
    right: (t, c) => post(t, c, '/v1/auth/reauth', { password: STRONG_PASSWORD, otp: c.codes[0] }),
  },
  {
    name: '/change-password (password)',
    setup: enrolled,
    wrong: (t, c) =>
      post(t, c, '/v1/auth/change-password', {
        currentPassword: WRONG_PASSWORD,
        newPassword: 'Amber-Vessel-Lantern-77!',
      }),
    wrongCode: 'INVALID_CREDENTIALS',
    secondFactor: false,
    right: (t, c) =>
      post(t, c, '/v1/auth/change-password', {
        currentPassword: STRONG_PASSWORD,
        newPassword: 'Amber-Vessel-Lantern-77!',
      }),
  },
];

describe('lockout: every prompt counts toward the same lock', () => {
  let t: TestApp;
  beforeAll(async () => {
    // The default 30-minute lock: it cannot expire during a test on a slow machine.
    t = await startTestApp({ env: { MAX_LOGIN_ATTEMPTS: String(MAX) } });
  });
  afterAll(() => t.close());

  const count = async (userId: string, type: string) =>
    (
      await t.dataSource.query(
        `SELECT count(*)::int AS n FROM security_events WHERE user_id = $1 AND event_type = $2`,
        [userId, type],
      )
    )[0].n as number;
  const account = async (userId: string) =>
    (
      await t.dataSource.query(
        `SELECT failed_login_attempts, locked_until, mfa_enabled, password_hash FROM users WHERE id = $1`,
        [userId],
      )
    )[0] as { failed_login_attempts: number; locked_until: Date | null; mfa_enabled: boolean; password_hash: string };
  const unusedBackupCodes = async (userId: string) =>
    (
      await t.dataSource.query(
        `SELECT count(*)::int AS n FROM mfa_backup_codes WHERE user_id = $1 AND used_at IS NULL`,
        [userId],
      )
    )[0].n as number;

  it.each(PROMPTS.map((p) => [p.name, p] as const))(
    '%s: wrong answers count, the last one locks (423), the right answer is 423 while locked',
    async (_n, p) => {
      const c = await p.setup(t);
      const before = await account(c.user.userId);
      const codesBefore = await unusedBackupCodes(c.user.userId);

      for (let i = 1; i < MAX; i++) {
        const res = await p.wrong(t, c);
        expect([res.status, res.body.error?.code]).toEqual([401, p.wrongCode]);
        expect((await account(c.user.userId)).failed_login_attempts).toBe(i);
      }
      const last = await p.wrong(t, c);
      expect(last.status).toBe(423);
      expect(last.body.error.code).toBe('ACCOUNT_LOCKED');

      const right = await p.right(t, c);
      expect(right.status).toBe(423);
      expect(right.body.error.code).toBe('ACCOUNT_LOCKED');

      // Nothing was verified or changed by the right answer: no backup code spent, 2FA and password as they were.
      const after = await account(c.user.userId);
      expect(after.failed_login_attempts).toBe(MAX);
      expect(after.locked_until!.getTime()).toBeGreaterThan(Date.now());
      expect(after.mfa_enabled).toBe(before.mfa_enabled);
      expect(after.password_hash).toBe(before.password_hash);
      expect(await unusedBackupCodes(c.user.userId)).toBe(codesBefore);

      // The same lock as the login's.
      const signIn = await login(t, c.user.email, STRONG_PASSWORD, { otp: c.codes[1] });
      expect(signIn.status).toBe(423);

      expect(await count(c.user.userId, 'login_failed')).toBe(MAX);
      expect(await count(c.user.userId, 'mfa_failed')).toBe(p.secondFactor ? MAX : 0);
      expect(await count(c.user.userId, 'account_locked')).toBe(1);
      expect(await count(c.user.userId, 'lockout_attempt_while_locked')).toBe(2);
    },
  );

  it('wrong answers at different prompts add up to one lock', async () => {
    const c = await enrolled(t);
    expect((await post(t, c, '/v1/auth/2fa/disable', { password: WRONG_PASSWORD, code: c.codes[0] })).status).toBe(401);
    expect((await post(t, c, '/v1/api-keys', { name: 'k', scopes: ['clients:read'], otp: WRONG_CODE })).status).toBe(
      401,
    );
    expect((await login(t, c.user.email, WRONG_PASSWORD)).status).toBe(423);
    expect((await post(t, c, '/v1/auth/reauth', { password: STRONG_PASSWORD, otp: c.codes[0] })).status).toBe(423);
  });

  it('a right answer resets the count the prompts built up', async () => {
    const c = await enrolled(t);
    for (let i = 1; i < MAX; i++)
      expect(
        (await post(t, c, '/v1/auth/2fa/backup-codes', { password: STRONG_PASSWORD, code: WRONG_CODE })).status,
      ).toBe(401);
    const ok = await post(t, c, '/v1/auth/2fa/backup-codes', { password: STRONG_PASSWORD, code: c.codes[0] });
    expect(ok.status).toBe(200);
    expect((await account(c.user.userId)).failed_login_attempts).toBe(0);
  });

  it(`a parallel burst of 30 wrong passwords on /2fa/disable checks at most ${MAX}; the rest are 423`, async () => {
    const c = await enrolled(t);
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        post(t, c, '/v1/auth/2fa/disable', { password: WRONG_PASSWORD, code: c.codes[0] }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 401 || s === 423)).toBe(true);
    // Exactly MAX reservations were granted: MAX-1 answered 401 and the one that reached the limit 423.
    expect(statuses.filter((s) => s === 401).length).toBe(MAX - 1);
    expect(await count(c.user.userId, 'login_failed')).toBe(MAX);
    expect(await count(c.user.userId, 'lockout_attempt_while_locked')).toBe(30 - MAX);
    expect((await account(c.user.userId)).failed_login_attempts).toBe(MAX);
    expect(await unusedBackupCodes(c.user.userId)).toBe(10);
  });
});
