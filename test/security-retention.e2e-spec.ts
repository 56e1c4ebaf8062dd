import { SecurityEventsRetention } from '../src/modules/security-events/security-events-retention.service';
import { ManualClock } from '../src/common/time/clock';
import { registerTeam } from './helpers/auth';
import { type TestApp, startTestApp } from './helpers/test-app';

describe('security event retention', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SECURITY_LOG_RETENTION_DAYS: '30' } });
  });
  afterAll(() => t.close());

  it('purges events older than SECURITY_LOG_RETENTION_DAYS and keeps the rest', async () => {
    await t.dataSource.query(
      `INSERT INTO security_events (event_type, severity, created_at)
       SELECT 'login_failed', 'low', now() - (d || ' days')::interval + interval '12 hours' FROM generate_series(1, 60) AS d`,
    );
    const purged = await t.app.get(SecurityEventsRetention).purge();
    expect(purged).toBe(30);
    const [{ oldest }] = await t.dataSource.query(`SELECT max(now() - created_at) AS oldest FROM security_events`);
    expect(oldest.days ?? 0).toBeLessThanOrEqual(30);
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM security_events`);
    expect(n).toBe(30);
  });
});

/** Retention on a ManualClock: events are recorded, time moves, the purge takes exactly the old ones. */
describe('security event retention follows the clock', () => {
  const clock = new ManualClock();
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ clock, env: { SECURITY_LOG_RETENTION_DAYS: '30' } });
  });
  afterAll(() => t.close());

  const DAY = 86_400_000;
  const failedLogin = (email: string) => t.http.post('/v1/auth/login', { email, password: 'not-the-password' });
  const failuresOf = async (userId: string): Promise<number> =>
    Number(
      (
        await t.dataSource.query(
          `SELECT count(*)::int AS n FROM security_events WHERE event_type = 'login_failed' AND user_id = $1`,
          [userId],
        )
      )[0].n,
    );

  it('an event is kept for SECURITY_LOG_RETENTION_DAYS, then the purge removes it; newer ones stay', async () => {
    const old = await registerTeam(t);
    for (let i = 0; i < 2; i++) expect((await failedLogin(old.email)).status).toBe(401);
    expect(await failuresOf(old.userId)).toBe(2);

    clock.advance(29 * DAY);
    const purge = t.app.get(SecurityEventsRetention);
    expect(await purge.purge()).toBe(0);
    const recent = await registerTeam(t);
    expect((await failedLogin(recent.email)).status).toBe(401);

    clock.advance(2 * DAY); // 31 days after the first events, 2 after the last
    expect(await purge.purge()).toBeGreaterThanOrEqual(2);
    expect(await failuresOf(old.userId)).toBe(0);
    expect(await failuresOf(recent.userId)).toBe(1);
    // Whatever is left is younger than the retention, by the clock.
    const [{ oldest }] = await t.dataSource.query(`SELECT min(created_at) AS oldest FROM security_events`);
    expect(clock.nowMs() - new Date(oldest).getTime()).toBeLessThan(30 * DAY);
  });
});
