import { SecurityEventsRetention } from '../src/modules/security-events/security-events-retention.service';
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
