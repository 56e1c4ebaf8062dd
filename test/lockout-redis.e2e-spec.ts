import { RateLimitStorage } from '../src/common/rate-limit/rate-limit.storage';
import { STRONG_PASSWORD, login, registerTeam, uniqueEmail } from './helpers/auth';
import { type HttpResponse } from './helpers/http';
import {
  type InstancesOnRedis,
  type RedisServer,
  describeWithRedis,
  startInstancesOnRedis,
} from './helpers/redis-server';
import { type TestApp } from './helpers/test-app';

const WRONG = 'Wrong-Password-123!';
const MAX = 5;

const tally = (rs: HttpResponse[]) => {
  const out: Record<number, number> = {};
  for (const r of rs) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
};

/**
 * Two instances share the lockout: an account's slots through its row, an unknown email's through Redis (the
 * same rules, attempt-slots.ts, run as a Lua script). Waiting for a slot held by the other instance works by
 * asking again (the in-process wake-ups do not cross instances).
 */
describeWithRedis('lockout across instances (Redis)', () => {
  let instances: InstancesOnRedis | undefined;
  let redis: RedisServer;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    instances = await startInstancesOnRedis({ MAX_LOGIN_ATTEMPTS: String(MAX) });
    ({ redis, a, b } = instances);
  });
  afterAll(() => instances?.close());

  it('20 simultaneous right-password sign-ins split over two instances: none is 423, nothing locked', async () => {
    const user = await registerTeam(a);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => login(i % 2 ? a : b, user.email, STRONG_PASSWORD)),
    );
    for (const r of results) {
      expect([200, 429]).toContain(r.status);
      if (r.status === 429) expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    const [row] = await a.dataSource.query(
      `SELECT failed_login_attempts, locked_until, cardinality(login_attempt_leases) AS leases FROM users WHERE id = $1`,
      [user.userId],
    );
    expect(row).toEqual({ failed_login_attempts: 0, locked_until: null, leases: 0 });
    expect((await login(b, user.email, STRONG_PASSWORD)).status).toBe(200);
  });

  it('a wrong-password burst split over two instances: a known and an unknown email lock alike', async () => {
    const user = await registerTeam(a);
    const ghost = uniqueEmail('ghost');
    const [known, unknown] = await Promise.all([
      Promise.all(Array.from({ length: 30 }, (_, i) => login(i % 2 ? a : b, user.email, WRONG))),
      Promise.all(Array.from({ length: 30 }, (_, i) => login(i % 2 ? a : b, ghost, WRONG))),
    ]);
    expect(tally(known)).toEqual({ 401: MAX - 1, 423: 30 - (MAX - 1) });
    expect(tally(unknown)).toEqual(tally(known));
  });

  it('the Lua script keeps the rules of the in-process store', async () => {
    const rules = { max: 3, keepMs: 60_000 };
    const t0 = Date.now();
    const lease = t0 + 30_000;
    const stores = [new RateLimitStorage(redis.url), new RateLimitStorage()];
    const trace = async (storage: RateLimitStorage) => {
      const key = `lockout:email:${uniqueEmail('lua')}`;
      const steps: unknown[] = [];
      for (let i = 0; i < 4; i++) steps.push(await storage.reserveAttempt(key, rules, t0, lease));
      await storage.releaseAttempt(key, rules, t0, lease);
      steps.push(await storage.reserveAttempt(key, rules, t0, lease));
      for (let i = 0; i < 3; i++) steps.push(await storage.failAttempt(key, rules, t0 + 1, lease, t0 + 600_000));
      steps.push(await storage.reserveAttempt(key, rules, t0 + 2, lease));
      // The caller's clock past the lock: it ended, the count restarts.
      steps.push(await storage.reserveAttempt(key, rules, t0 + 600_000, t0 + 630_000));
      steps.push(await storage.failAttempt(key, rules, t0 + 600_001, t0 + 630_000, t0 + 1_200_001));
      // Leases that outlive their holder: three taken, none settled; busy until they expire.
      const held = `${key}:held`;
      for (let i = 0; i < 3; i++) await storage.reserveAttempt(held, rules, t0, lease);
      steps.push(await storage.reserveAttempt(held, rules, lease - 1, lease + 30_000));
      steps.push(await storage.reserveAttempt(held, rules, lease, lease + 30_000));
      return steps;
    };
    try {
      const [onRedis, inProcess] = await Promise.all(stores.map(trace));
      expect(onRedis).toEqual(inProcess);
      expect(inProcess).toEqual([
        { kind: 'reserved' },
        { kind: 'reserved' },
        { kind: 'reserved' },
        { kind: 'busy' },
        { kind: 'reserved' },
        { failures: 1, lockedUntil: 0, lockedNow: false },
        { failures: 2, lockedUntil: 0, lockedNow: false },
        { failures: 3, lockedUntil: t0 + 600_000, lockedNow: true },
        { kind: 'locked', lockedUntil: t0 + 600_000 },
        { kind: 'reserved' },
        { failures: 1, lockedUntil: 0, lockedNow: false },
        { kind: 'busy' },
        { kind: 'reserved' },
      ]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
