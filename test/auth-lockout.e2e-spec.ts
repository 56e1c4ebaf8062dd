import { type TestApp, startTestApp } from './helpers/test-app';
import { STRONG_PASSWORD, login, loginOk, registerTeam, uniqueEmail } from './helpers/auth';
import { enrolMfa } from './helpers/mfa';

const WRONG = 'Wrong-Password-123!';

describe('auth: lockout', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { MAX_LOGIN_ATTEMPTS: '5', LOCKOUT_DURATION_MINUTES: '0.05' } });
  });
  afterAll(() => t.close());

  const eventsOf = async (userId: string, type: string) =>
    (
      await t.dataSource.query(
        `SELECT count(*)::int AS n FROM security_events WHERE user_id = $1 AND event_type = $2`,
        [userId, type],
      )
    )[0].n as number;

  it('5 failed logins lock the account (423 with minutes left) even with the right password; it unlocks after the duration', async () => {
    const a = await registerTeam(t);
    for (let i = 1; i <= 4; i++) {
      const res = await login(t, a.email, WRONG);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
    }
    const fifth = await login(t, a.email, WRONG);
    expect(fifth.status).toBe(423);
    expect(fifth.body.error).toEqual({ code: 'ACCOUNT_LOCKED', message: 'Account locked for 1 minute' });

    const right = await login(t, a.email, STRONG_PASSWORD);
    expect(right.status).toBe(423);
    expect(right.body.error.code).toBe('ACCOUNT_LOCKED');
    expect(await eventsOf(a.userId, 'account_locked')).toBe(1);
    expect(await eventsOf(a.userId, 'lockout_attempt_while_locked')).toBe(1);
    expect(await eventsOf(a.userId, 'multiple_failed_logins')).toBe(1);

    // 0.05 min = 3 s.
    await new Promise((r) => setTimeout(r, 3100));
    const ok = await login(t, a.email, STRONG_PASSWORD);
    expect(ok.status).toBe(200);
    const [row] = await t.dataSource.query(`SELECT failed_login_attempts, locked_until FROM users WHERE id = $1`, [
      a.userId,
    ]);
    expect(row).toEqual({ failed_login_attempts: 0, locked_until: null });
  });

  it('a success resets the count', async () => {
    const a = await registerTeam(t);
    for (let i = 0; i < 4; i++) await login(t, a.email, WRONG);
    await loginOk(t, a.email, STRONG_PASSWORD);
    for (let i = 0; i < 4; i++) expect((await login(t, a.email, WRONG)).status).toBe(401);
  });

  it('an unknown email gets the same answer as a wrong password, in about the same time', async () => {
    const a = await registerTeam(t);
    const time = async (email: string) => {
      const started = process.hrtime.bigint();
      const res = await login(t, email, WRONG);
      return { res, ms: Number(process.hrtime.bigint() - started) / 1e6 };
    };
    // Warm both paths, then compare medians.
    await time(a.email);
    await time(uniqueEmail('ghost'));
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) {
      const k = await time(a.email);
      const u = await time(uniqueEmail('ghost'));
      expect(u.res.status).toBe(k.res.status);
      expect(u.res.body).toEqual(k.res.body);
      known.push(k.ms);
      unknown.push(u.ms);
    }
    await loginOk(t, a.email, STRONG_PASSWORD); // reset the counter
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[1]!;
    // Both paths verify one argon2id hash: the unknown-email path is not measurably faster.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
  });
});

describe('auth: lockout under parallel failures', () => {
  // A lock of the default 30 minutes: with a few seconds' lock, a slow machine could see it expire mid-burst
  // and (rightly) lock a second time.
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { MAX_LOGIN_ATTEMPTS: '5' } });
  });
  afterAll(() => t.close());

  const eventsOf = async (userId: string, type: string) =>
    (
      await t.dataSource.query(
        `SELECT count(*)::int AS n FROM security_events WHERE user_id = $1 AND event_type = $2`,
        [userId, type],
      )
    )[0].n as number;

  it('20 parallel wrong-password logins: locked, and the stored counter equals the failures counted', async () => {
    const a = await registerTeam(t);
    const results = await Promise.all(Array.from({ length: 20 }, () => login(t, a.email, WRONG)));
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 401 || s === 423)).toBe(true);
    expect(statuses.filter((s) => s === 423).length).toBeGreaterThanOrEqual(1);

    const [user] = await t.dataSource.query(`SELECT failed_login_attempts, locked_until FROM users WHERE id = $1`, [
      a.userId,
    ]);
    expect(new Date(user.locked_until).getTime()).toBeGreaterThan(Date.now());
    const failed = await eventsOf(a.userId, 'login_failed');
    const whileLocked = await eventsOf(a.userId, 'lockout_attempt_while_locked');
    // Every attempt that checked the password moved the counter exactly once; the rest were refused as locked.
    expect(user.failed_login_attempts).toBe(failed);
    expect(user.failed_login_attempts + whileLocked).toBe(20);
    expect(user.failed_login_attempts).toBeGreaterThanOrEqual(5);
    expect(await eventsOf(a.userId, 'account_locked')).toBe(1);
  });
});

describe('auth: lockout as a reservation (holds under concurrency)', () => {
  // The per-IP login limit set high so only the lockout answers; a 30-minute lock so it cannot expire mid-burst.
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        MAX_LOGIN_ATTEMPTS: '5',
        RATE_LIMIT_LOGIN_MAX: '10000',
        RATE_LIMIT_GLOBAL_MAX: '10000',
        RATE_LIMIT_REGISTER_MAX: '100',
      },
    });
  });
  afterAll(() => t.close());

  const eventsOf = async (userId: string, type: string) =>
    (
      await t.dataSource.query(
        `SELECT count(*)::int AS n FROM security_events WHERE user_id = $1 AND event_type = $2`,
        [userId, type],
      )
    )[0].n as number;

  it('60 parallel wrong logins: at most MAX_LOGIN_ATTEMPTS passwords are checked, the rest are 423', async () => {
    const a = await registerTeam(t);
    const results = await Promise.all(Array.from({ length: 60 }, () => login(t, a.email, WRONG)));
    const statuses = results.map((r) => r.status);
    const unauthorized = results.filter((r) => r.status === 401);
    expect(statuses.every((s) => s === 401 || s === 423)).toBe(true);
    expect(unauthorized.length).toBeLessThanOrEqual(5);
    for (const r of unauthorized) expect(r.body.error.code).toBe('INVALID_CREDENTIALS');
    expect(statuses.filter((s) => s === 423).length).toBe(60 - unauthorized.length);
    // Exactly 5 checked: 4 answered 401 and the one that reached the limit answered 423.
    expect(await eventsOf(a.userId, 'login_failed')).toBe(5);
    expect(await eventsOf(a.userId, 'account_locked')).toBe(1);
    expect(await eventsOf(a.userId, 'lockout_attempt_while_locked')).toBe(55);
    const [row] = await t.dataSource.query(`SELECT failed_login_attempts, locked_until FROM users WHERE id = $1`, [
      a.userId,
    ]);
    expect(row.failed_login_attempts).toBe(5);
    expect(new Date(row.locked_until).getTime()).toBeGreaterThan(Date.now());
  });

  it('10 wrong in parallel and the right password 20 ms later: the right one is 423 and the account stays locked', async () => {
    const a = await registerTeam(t);
    const wrong = Array.from({ length: 10 }, () => login(t, a.email, WRONG));
    await new Promise((r) => setTimeout(r, 20));
    const right = await login(t, a.email, STRONG_PASSWORD);
    const results = await Promise.all(wrong);
    expect(right.status).toBe(423);
    expect(right.body.error.code).toBe('ACCOUNT_LOCKED');
    expect(results.filter((r) => r.status === 401).length).toBeLessThanOrEqual(5);
    const [row] = await t.dataSource.query(`SELECT failed_login_attempts, locked_until FROM users WHERE id = $1`, [
      a.userId,
    ]);
    expect(row.failed_login_attempts).toBe(5);
    expect(new Date(row.locked_until).getTime()).toBeGreaterThan(Date.now());
    expect((await login(t, a.email, STRONG_PASSWORD)).status).toBe(423);
    expect(await eventsOf(a.userId, 'account_locked')).toBe(1);
  });

  it('an unknown email locks after the same count, with the same answer', async () => {
    const a = await registerTeam(t);
    const ghost = uniqueEmail('ghost');
    const known = [];
    const unknown = [];
    for (let i = 0; i < 6; i++) {
      known.push(await login(t, a.email, WRONG));
      unknown.push(await login(t, ghost, WRONG));
    }
    expect(unknown.map((r) => r.status)).toEqual(known.map((r) => r.status));
    expect(unknown.map((r) => r.body)).toEqual(known.map((r) => r.body));
    // As for an account: 4 × 401, the attempt that reaches the limit and every later one 423.
    expect(unknown.map((r) => r.status)).toEqual([401, 401, 401, 401, 423, 423]);
    for (const r of unknown.slice(0, 4)) expect(r.body.error.code).toBe('INVALID_CREDENTIALS');
    for (const r of unknown.slice(4))
      expect(r.body.error).toEqual({ code: 'ACCOUNT_LOCKED', message: 'Account locked for 30 minutes' });
    // Case does not make a new counter.
    expect((await login(t, ghost.toUpperCase(), WRONG)).status).toBe(423);
  });

  it('the same counter under a parallel burst on an unknown email', async () => {
    const ghost = uniqueEmail('ghost');
    const results = await Promise.all(Array.from({ length: 30 }, () => login(t, ghost, WRONG)));
    expect(results.filter((r) => r.status === 401).length).toBe(4);
    expect(results.filter((r) => r.status === 423).length).toBe(26);
  });

  it('MFA_REQUIRED neither counts nor resets; wrong codes count', async () => {
    const a = await registerTeam(t);
    const { backupCodes } = await enrolMfa(t, a.accessToken);
    for (let i = 0; i < 3; i++)
      expect((await login(t, a.email, STRONG_PASSWORD, { otp: '000000' })).body.error.code).toBe('INVALID_MFA_CODE');
    for (let i = 0; i < 6; i++) expect((await login(t, a.email, STRONG_PASSWORD)).body.error.code).toBe('MFA_REQUIRED');
    expect((await login(t, a.email, STRONG_PASSWORD, { otp: '000000' })).status).toBe(401);
    expect((await login(t, a.email, STRONG_PASSWORD, { otp: '000000' })).status).toBe(423);
    expect((await login(t, a.email, STRONG_PASSWORD, { otp: backupCodes[0] })).status).toBe(423);
  });
});

describe('auth: login rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_LOGIN_MAX: '5', MAX_LOGIN_ATTEMPTS: '100' } });
  });
  afterAll(() => t.close());

  it('successful logins do not count; the 6th failed attempt is 429 AUTH_RATE_LIMIT with Retry-After', async () => {
    const a = await registerTeam(t);
    for (let i = 0; i < 8; i++) expect((await login(t, a.email, STRONG_PASSWORD)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await login(t, a.email, WRONG)).status).toBe(401);
    const sixth = await login(t, a.email, WRONG);
    expect(sixth.status).toBe(429);
    expect(sixth.body.error.code).toBe('AUTH_RATE_LIMIT');
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(0);
    // Also with the right password: the limiter runs before credentials are checked.
    expect((await login(t, a.email, STRONG_PASSWORD)).status).toBe(429);
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM security_events WHERE event_type = 'rate_limited'`,
    );
    expect(n).toBe(1);
  });
});

describe('auth: other rate limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { RATE_LIMIT_REGISTER_MAX: '2', RATE_LIMIT_GLOBAL_MAX: '40', RATE_LIMIT_HEALTH_MAX: '3' },
    });
  });
  afterAll(() => t.close());

  it('register has its own limit', async () => {
    await registerTeam(t);
    await registerTeam(t);
    const third = await t.http.post('/v1/auth/register', {
      email: uniqueEmail(),
      password: STRONG_PASSWORD,
      firstName: 'A',
      lastName: 'B',
      teamName: 'C',
    });
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('AUTH_RATE_LIMIT');
  });

  it('health has its own limit', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await t.http.get('/health')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('every /v1 route shares the global limit (429 RATE_LIMIT)', async () => {
    let last = 0;
    let headers: Headers | undefined;
    for (let i = 0; i < 45 && last !== 429; i++) {
      const res = await t.http.get('/v1/auth/me');
      last = res.status;
      headers = res.headers;
      if (res.status === 429) expect(res.body.error.code).toBe('RATE_LIMIT');
    }
    expect(last).toBe(429);
    expect(headers!.get('retry-after')).toBeTruthy();
  });
});
