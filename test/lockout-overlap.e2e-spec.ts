import { ManualClock } from '../src/common/time/clock';
import { UsersRepository } from '../src/modules/users/users.repository';
import { STRONG_PASSWORD, login, registerTeam, uniqueEmail } from './helpers/auth';
import { type HttpResponse } from './helpers/http';
import { type TestApp, startTestApp } from './helpers/test-app';

const WRONG = 'Wrong-Password-123!';
const MAX = 5;

/**
 * Issue 28: sign-ins with the right password that overlap are never told the account is locked. The lockout
 * reserves one of MAX_LOGIN_ATTEMPTS slots before checking a password; a request that finds every slot held by
 * attempts still being checked (not by failures) waits for one, or answers 429 AUTH_RATE_LIMIT with Retry-After,
 * never 423. Only recorded failures lock. The attack guarantees are in auth-lockout / lockout-prompts (unchanged).
 */

const account = async (t: TestApp, userId: string) =>
  (
    await t.dataSource.query(
      `SELECT failed_login_attempts, locked_until, cardinality(login_attempt_leases) AS leases FROM users WHERE id = $1`,
      [userId],
    )
  )[0] as { failed_login_attempts: number; locked_until: Date | null; leases: number };

const eventCount = async (t: TestApp, userId: string, type: string) =>
  (
    await t.dataSource.query(`SELECT count(*)::int AS n FROM security_events WHERE user_id = $1 AND event_type = $2`, [
      userId,
      type,
    ])
  )[0].n as number;

/** Every answer is 200, or 429 AUTH_RATE_LIMIT with Retry-After; never 423. Returns the number of 429s. */
function expectNeverLocked(results: HttpResponse[]): number {
  for (const r of results) {
    expect([200, 429]).toContain(r.status);
    if (r.status === 429) {
      expect(r.body.error.code).toBe('AUTH_RATE_LIMIT');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  }
  return results.filter((r) => r.status === 429).length;
}

describe('lockout: overlapping right answers (waiting for a slot)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { MAX_LOGIN_ATTEMPTS: String(MAX) } });
  });
  afterAll(() => t.close());

  it.each([10, 20])('%i simultaneous right-password sign-ins: none is 423, the account is not locked', async (n) => {
    const a = await registerTeam(t);
    const results = await Promise.all(Array.from({ length: n }, () => login(t, a.email, STRONG_PASSWORD)));
    expectNeverLocked(results);
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);

    expect(await account(t, a.userId)).toEqual({ failed_login_attempts: 0, locked_until: null, leases: 0 });
    expect((await login(t, a.email, STRONG_PASSWORD)).status).toBe(200);
    expect(await eventCount(t, a.userId, 'account_locked')).toBe(0);
    expect(await eventCount(t, a.userId, 'lockout_attempt_while_locked')).toBe(0);
    expect(await eventCount(t, a.userId, 'login_failed')).toBe(0);
  });

  it('10 simultaneous /reauth with the right password: none is 423, nothing counted', async () => {
    const a = await registerTeam(t);
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.http.post('/v1/auth/reauth', { password: STRONG_PASSWORD }, { token: a.accessToken }),
      ),
    );
    expectNeverLocked(results);
    expect(await account(t, a.userId)).toEqual({ failed_login_attempts: 0, locked_until: null, leases: 0 });
    expect((await t.http.post('/v1/auth/reauth', { password: STRONG_PASSWORD }, { token: a.accessToken })).status).toBe(
      200,
    );
  });

  it('right and wrong overlapping below the limit: the wrong ones count, the right ones reset, nothing locks', async () => {
    const a = await registerTeam(t);
    const results = await Promise.all([
      ...Array.from({ length: 2 }, () => login(t, a.email, WRONG)),
      ...Array.from({ length: 10 }, () => login(t, a.email, STRONG_PASSWORD)),
    ]);
    for (const r of results.slice(0, 2)) expect(r.status).toBe(401);
    expectNeverLocked(results.slice(2));
    const after = await account(t, a.userId);
    expect(after.locked_until).toBeNull();
    expect(after.leases).toBe(0);
    expect((await login(t, a.email, STRONG_PASSWORD)).status).toBe(200);
  });

  it('a parallel burst of wrong passwords: a known and an unknown email give the same answers', async () => {
    const a = await registerTeam(t);
    const ghost = uniqueEmail('ghost');
    const [known, unknown] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, () => login(t, a.email, WRONG))),
      Promise.all(Array.from({ length: 20 }, () => login(t, ghost, WRONG))),
    ]);
    const tally = (rs: HttpResponse[]) => ({
      401: rs.filter((r) => r.status === 401).length,
      423: rs.filter((r) => r.status === 423).length,
    });
    // MAX checked (MAX - 1 answered 401, the one that locked 423); the rest waited for the lock: 423.
    expect(tally(known)).toEqual({ 401: MAX - 1, 423: 20 - (MAX - 1) });
    expect(tally(unknown)).toEqual(tally(known));
    const bodies = (rs: HttpResponse[]) => [...new Set(rs.map((r) => JSON.stringify(r.body)))].sort();
    expect(bodies(unknown)).toEqual(bodies(known));
  });

  it('the reservation SQL holds under a race: exactly MAX of 40 granted; of their failures exactly one locks', async () => {
    const a = await registerTeam(t);
    const users = t.app.get(UsersRepository);
    const now = new Date();
    const lease = new Date(now.getTime() + 30_000);
    const granted = await Promise.all(
      Array.from({ length: 40 }, () => users.reserveAttempt(a.userId, MAX, now, lease)),
    );
    expect(granted.filter((g) => g.reserved).length).toBe(MAX);
    // Refused while the slots are held by attempts in flight: busy, not locked.
    for (const g of granted.filter((g) => !g.reserved)) expect(g.lockedUntil).toBeNull();
    expect(await account(t, a.userId)).toEqual({ failed_login_attempts: 0, locked_until: null, leases: MAX });

    const lockUntil = new Date(now.getTime() + 60_000);
    const failures = await Promise.all(
      Array.from({ length: MAX }, () => users.recordFailedAttempt(a.userId, MAX, lease, now, lockUntil)),
    );
    expect(failures.map((f) => f.failedLoginAttempts).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(failures.filter((f) => f.lockedNow).length).toBe(1);
    expect(await account(t, a.userId)).toEqual({ failed_login_attempts: MAX, locked_until: lockUntil, leases: 0 });
    expect(await users.reserveAttempt(a.userId, MAX, now, lease)).toEqual({ reserved: false, lockedUntil: lockUntil });
  });
});

describe('lockout: slots held by checks in flight, and time from the Clock', () => {
  const clock = new ManualClock();
  let t: TestApp;
  beforeAll(async () => {
    // No waiting for a slot: every overlap that finds the slots taken answers 429 at once.
    t = await startTestApp({ clock, env: { MAX_LOGIN_ATTEMPTS: String(MAX), LOCKOUT_BUSY_WAIT_MS: '0' } });
  });
  afterAll(() => t.close());

  it('20 simultaneous right-password sign-ins without waiting: the overflow is 429 with Retry-After, never 423', async () => {
    const a = await registerTeam(t);
    const results = await Promise.all(Array.from({ length: 20 }, () => login(t, a.email, STRONG_PASSWORD)));
    const busy = expectNeverLocked(results);
    expect(busy).toBeGreaterThanOrEqual(1);
    expect(await account(t, a.userId)).toEqual({ failed_login_attempts: 0, locked_until: null, leases: 0 });
    expect((await login(t, a.email, STRONG_PASSWORD)).status).toBe(200);
  });

  it('slots held by a process that died mid-check: 429 (not 423) until their leases expire, then a sign-in works', async () => {
    const a = await registerTeam(t);
    // MAX reservations left behind, as a crashed instance would leave them (30 s leases from now).
    await t.dataSource.query(
      `UPDATE users SET login_attempt_leases = array_fill($2::timestamptz, ARRAY[$3::int]) WHERE id = $1`,
      [a.userId, new Date(clock.nowMs() + 30_000), MAX],
    );
    const refused = await login(t, a.email, STRONG_PASSWORD);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('AUTH_RATE_LIMIT');
    expect(refused.headers.get('retry-after')).toBe('1');

    clock.advance(31_000);
    expect((await login(t, a.email, STRONG_PASSWORD)).status).toBe(200);
    expect(await account(t, a.userId)).toEqual({ failed_login_attempts: 0, locked_until: null, leases: 0 });
  });

  it('a lock ends when the clock passes LOCKOUT_DURATION_MINUTES, for an account and for an unknown email', async () => {
    const a = await registerTeam(t);
    const ghost = uniqueEmail('ghost');
    for (let i = 1; i < MAX; i++) {
      expect((await login(t, a.email, WRONG)).status).toBe(401);
      expect((await login(t, ghost, WRONG)).status).toBe(401);
    }
    const locked = await login(t, a.email, WRONG);
    expect(locked.body.error).toEqual({ code: 'ACCOUNT_LOCKED', message: 'Account locked for 30 minutes' });
    expect((await login(t, ghost, WRONG)).body).toEqual(locked.body);

    clock.advanceMinutes(29);
    const stillLocked = await login(t, a.email, STRONG_PASSWORD);
    expect(stillLocked.body.error).toEqual({ code: 'ACCOUNT_LOCKED', message: 'Account locked for 1 minute' });
    expect((await login(t, ghost, WRONG)).body).toEqual(stillLocked.body);

    clock.advanceMinutes(1.1);
    expect((await login(t, a.email, STRONG_PASSWORD)).status).toBe(200);
    expect(await account(t, a.userId)).toEqual({ failed_login_attempts: 0, locked_until: null, leases: 0 });
    // The unknown email's lock ended too, and its count restarted: a wrong password is 401 again.
    expect((await login(t, ghost, WRONG)).status).toBe(401);
  });
});
