import { JobRuns } from './job-runs';
import { Metrics, SCRAPE_READ_TIMEOUT_MS, UNMATCHED_ROUTE, sharedRead } from './metrics';

const sample = async (metrics: Metrics, name: string, labels: Record<string, string | number> = {}) => {
  const metric = metrics.registry.getSingleMetric(name);
  const { values } = await metric!.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
};

describe('Metrics', () => {
  it('labels requests with the route pattern, a fixed label when none matched, and known methods only', async () => {
    const metrics = new Metrics();
    metrics.observeRequest('GET', '/v1/clients/:id', 404, 12);
    metrics.observeRequest('BREW', undefined, 404, 1);
    const text = (await metrics.exposition()).body;
    expect(text).toContain(
      'hearth_http_request_duration_seconds_count{method="GET",route="/v1/clients/:id",status_code="404"} 1',
    );
    expect(text).toContain(
      `hearth_http_request_duration_seconds_count{method="OTHER",route="${UNMATCHED_ROUTE}",status_code="404"} 1`,
    );
    expect(text).toContain(
      'hearth_http_request_duration_seconds_sum{method="GET",route="/v1/clients/:id",status_code="404"} 0.012',
    );
  });

  it('a scraped gauge keeps its last value and counts a failed or slow read', async () => {
    jest.useFakeTimers();
    try {
      const metrics = new Metrics();
      let read: () => Promise<number | undefined> = () => Promise.resolve(3);
      metrics.scrapedGauge('test_depth', 'test', () => read());
      expect(await sample(metrics, 'test_depth')).toBe(3);

      read = () => Promise.reject(new Error('database away'));
      expect(await sample(metrics, 'test_depth')).toBe(3);
      expect(await sample(metrics, 'hearth_metrics_read_failures_total', { source: 'test_depth' })).toBe(1);

      read = () => new Promise(() => undefined);
      const slow = sample(metrics, 'test_depth');
      await jest.advanceTimersByTimeAsync(SCRAPE_READ_TIMEOUT_MS + 1);
      expect(await slow).toBe(3);
      expect(await sample(metrics, 'hearth_metrics_read_failures_total', { source: 'test_depth' })).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('gauges fed by one query share the read of a scrape, and read again on the next', async () => {
    let reads = 0;
    const depth = sharedRead(() => Promise.resolve({ pending: ++reads, age: 10 * reads }));
    const metrics = new Metrics();
    metrics.scrapedGauge('test_pending', 'test', async () => (await depth()).pending);
    metrics.scrapedGauge('test_age', 'test', async () => (await depth()).age);
    let text = (await metrics.exposition()).body;
    expect(reads).toBe(1);
    expect(text).toMatch(/^test_pending 1$/m);
    expect(text).toMatch(/^test_age 10$/m);
    text = (await metrics.exposition()).body;
    expect(reads).toBe(2);
    expect(text).toMatch(/^test_age 20$/m);
  });
});

describe('JobRuns', () => {
  afterEach(() => jest.useRealTimers());

  it('records outcome, duration and the lag of an interval job that overran', async () => {
    jest.useFakeTimers({ now: new Date('2026-12-08T10:00:00.000Z') });
    const metrics = new Metrics();
    const jobs = new JobRuns(metrics);
    await jobs.run('reminders', { everyMs: 1_000 }, () => Promise.resolve(1));
    expect(await sample(metrics, 'hearth_job_lag_seconds', { job: 'reminders' })).toBe(0);
    // The next pass was due 1 s after the first started, and starts 3.5 s after it.
    jest.setSystemTime(new Date('2026-12-08T10:00:03.500Z'));
    await expect(
      jobs.run('reminders', { everyMs: 1_000 }, () => Promise.reject(new Error('smtp down'))),
    ).rejects.toThrow('smtp down');
    expect(await sample(metrics, 'hearth_job_lag_seconds', { job: 'reminders' })).toBe(2.5);
    expect(await sample(metrics, 'hearth_job_runs_total', { job: 'reminders', outcome: 'success' })).toBe(1);
    expect(await sample(metrics, 'hearth_job_runs_total', { job: 'reminders', outcome: 'failure' })).toBe(1);
    expect(await sample(metrics, 'hearth_job_last_success_timestamp_seconds', { job: 'reminders' })).toBe(
      Date.parse('2026-12-08T10:00:00.000Z') / 1000,
    );
  });

  it('a cron run is due at the start of its minute', async () => {
    jest.useFakeTimers({ now: new Date('2026-12-08T03:00:00.750Z') });
    const metrics = new Metrics();
    await new JobRuns(metrics).run('retention', { cron: true }, () => Promise.resolve(0));
    expect(await sample(metrics, 'hearth_job_lag_seconds', { job: 'retention' })).toBe(0.75);
  });
});
