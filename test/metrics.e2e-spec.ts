import { randomUUID } from 'node:crypto';
import { MetricsServer } from '../src/common/metrics/metrics-server';
import { STRONG_PASSWORD, type SignedIn, login, registerTeam } from './helpers/auth';
import { enrolMfa } from './helpers/mfa';
import { type TestApp, startTestApp } from './helpers/test-app';
import { LOCAL_RECEIVER_PORTS, WebhookReceiver, eventually } from './helpers/webhook-receiver';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format → samples (comments skipped; label values unescaped enough for our names). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[key!] = value!.replace(/\\(.)/g, '$1');
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

describe('metrics (METRICS_PORT)', () => {
  let t: TestApp;
  let metricsUrl: string;
  let admin: SignedIn;
  let receiver: WebhookReceiver;

  const scrape = async () => {
    const res = await fetch(`${metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    return { text, samples: parse(text) };
  };
  const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
    samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    receiver.respond = () => 500;
    t = await startTestApp({
      env: {
        METRICS_PORT: '0',
        RATE_LIMIT_HEALTH_MAX: '2',
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_ALLOWED_PORTS: LOCAL_RECEIVER_PORTS,
        // A failed delivery stays pending (its retry is far off) so the outbox gauges have something to show.
        WEBHOOK_RETRY_BASE_SECONDS: '3600',
        TASK_REMINDER_INTERVAL_SECONDS: '0.2',
      },
    });
    const address = t.app.get(MetricsServer).address();
    if (!address) throw new Error('metrics listener not started');
    metricsUrl = `http://127.0.0.1:${address.port}`;
    admin = await registerTeam(t);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('listens on loopback by default, on a port of its own; the API answers /metrics with 404', async () => {
    const address = t.app.get(MetricsServer).address()!;
    expect(address.address).toBe('127.0.0.1');
    expect(t.baseUrl).not.toContain(`:${address.port}`);
    for (const path of ['/metrics', '/v1/metrics', '/metrics/']) {
      const res = await t.http.get(path);
      expect(res.status).toBe(404);
      expect(res.text).not.toContain('hearth_http_request_duration_seconds');
    }
    expect((await fetch(`${metricsUrl}/`)).status).toBe(404);
    expect((await fetch(`${metricsUrl}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('labels the request histogram with route patterns: never a raw path or an id', async () => {
    const missing = randomUUID();
    expect((await t.http.get('/v1/clients', { token: admin.accessToken })).status).toBe(200);
    expect((await t.http.get(`/v1/clients/${missing}`, { token: admin.accessToken })).status).toBe(404);
    expect((await t.http.get(`/v1/no-such-thing/${missing}`, { token: admin.accessToken })).status).toBe(404);
    // A spelling no route takes (trailing slash) is unmatched: its id stays out too.
    expect((await t.http.get(`/v1/clients/${missing}/`, { token: admin.accessToken })).status).toBe(404);

    const { text, samples } = await scrape();
    expect(text).not.toContain(missing);
    expect(text).not.toMatch(UUID);
    const count = (labels: Record<string, string>) =>
      value(samples, 'hearth_http_request_duration_seconds_count', labels);
    expect(count({ method: 'GET', route: '/v1/clients', status_code: '200' })).toBeGreaterThanOrEqual(1);
    expect(count({ method: 'GET', route: '/v1/clients/:id', status_code: '404' })).toBe(1);
    expect(count({ method: 'GET', route: '(unmatched)', status_code: '404' })).toBeGreaterThanOrEqual(2);
    expect(count({ method: 'POST', route: '/v1/auth/register', status_code: '201' })).toBe(1);
    // Every request series is a declared pattern or the fixed unmatched label.
    const routes = new Set(
      samples.filter((s) => s.name === 'hearth_http_request_duration_seconds_count').map((s) => s.labels.route),
    );
    for (const route of routes) expect(route === '(unmatched)' || route!.startsWith('/')).toBe(true);
    expect([...routes].some((r) => /\/v1\/clients\/[^:]/.test(r!))).toBe(false);
    // The histogram has its buckets and they add up.
    expect(
      value(samples, 'hearth_http_request_duration_seconds_bucket', {
        route: '/v1/clients',
        status_code: '200',
        le: '+Inf',
      }),
    ).toBe(count({ route: '/v1/clients', status_code: '200' }));
  });

  it('counts sign-ins by outcome and security events by type and severity', async () => {
    const before = (await scrape()).samples;
    expect((await login(t, admin.email, 'Wrong-Password-123!')).status).toBe(401);
    expect((await login(t, admin.email, STRONG_PASSWORD)).status).toBe(200);
    expect((await login(t, `nobody-${randomUUID()}@example.com`, STRONG_PASSWORD)).status).toBe(401);

    const after = (await scrape()).samples;
    const delta = (name: string, labels: Record<string, string>) =>
      value(after, name, labels) - value(before, name, labels);
    expect(delta('hearth_sign_ins_total', { outcome: 'success' })).toBe(1);
    expect(delta('hearth_sign_ins_total', { outcome: 'invalid_credentials' })).toBe(2);
    expect(delta('hearth_security_events_total', { type: 'login_failed', severity: 'low' })).toBe(2);
    expect(delta('hearth_security_events_total', { type: 'login_success', severity: 'low' })).toBe(1);
  });

  it('counts rate-limit rejections by limiter', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await t.http.get('/health')).status);
    expect(statuses).toContain(429);
    const { samples } = await scrape();
    expect(value(samples, 'hearth_rate_limit_rejections_total', { limiter: 'health' })).toBe(
      statuses.filter((s) => s === 429).length,
    );
    expect(value(samples, 'hearth_security_events_total', { type: 'rate_limited' })).toBeGreaterThanOrEqual(1);
  });

  it('shows the pool gauges, the outbox depth and age, the jobs and the process defaults', async () => {
    const { samples } = await scrape();
    expect(value(samples, 'hearth_db_pool_max_connections')).toBe(t.config.database.poolMax);
    const inUse = samples.find((s) => s.name === 'hearth_db_pool_connections_in_use');
    const idle = samples.find((s) => s.name === 'hearth_db_pool_connections_idle');
    const waiting = samples.find((s) => s.name === 'hearth_db_pool_waiting_requests');
    expect(inUse && idle && waiting).toBeTruthy();
    // The scrape holds no connection of the API's; something is open after the traffic above.
    expect(inUse!.value + idle!.value).toBeGreaterThanOrEqual(1);
    expect(inUse!.value + idle!.value).toBeLessThanOrEqual(t.config.database.poolMax);
    expect(waiting!.value).toBe(0);
    expect(value(samples, 'hearth_webhook_outbox_pending')).toBe(0);
    expect(value(samples, 'hearth_webhook_outbox_oldest_age_seconds')).toBe(0);
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_p99_seconds')).toBe(true);

    // Jobs: the dispatcher polls every second; the reminders run every 0.2 s here.
    const now = await eventually(
      async () => (await scrape()).samples,
      (now) =>
        value(now, 'hearth_job_runs_total', { job: 'webhook-dispatcher', outcome: 'success' }) > 0 &&
        value(now, 'hearth_job_runs_total', { job: 'task-reminders', outcome: 'success' }) > 1,
    );
    expect(value(now, 'hearth_job_runs_total', { outcome: 'failure' })).toBe(0);
    expect(value(now, 'hearth_job_last_success_timestamp_seconds', { job: 'task-reminders' })).toBeGreaterThan(
      Date.now() / 1000 - 60,
    );
    const lag = now.find((s) => s.name === 'hearth_job_lag_seconds' && s.labels.job === 'task-reminders');
    expect(lag?.value).toBeGreaterThanOrEqual(0);
    expect(value(now, 'hearth_job_duration_seconds_count', { job: 'task-reminders' })).toBeGreaterThan(1);
  });

  it('shows a failing delivery as pending in the outbox, with its age', async () => {
    await enrolMfa(t, admin.accessToken);
    const hook = await t.http.post(
      '/v1/webhooks',
      { url: `${receiver.url}/down`, events: ['client.created'] },
      { token: admin.accessToken },
    );
    expect(hook.status).toBe(201);
    const created = await t.http.post(
      '/v1/clients',
      { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' },
      { token: admin.accessToken },
    );
    expect(created.status).toBe(201);
    // Attempted once (500), then waiting an hour for its retry: pending.
    await eventually(
      () => Promise.resolve(receiver.received.length),
      (n) => n >= 1,
    );
    const { samples } = await scrape();
    expect(value(samples, 'hearth_webhook_outbox_pending')).toBe(1);
    expect(value(samples, 'hearth_webhook_outbox_oldest_age_seconds')).toBeGreaterThan(0);
    expect(value(samples, 'hearth_metrics_read_failures_total')).toBe(0);
  });
});
