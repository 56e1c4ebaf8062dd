import { randomUUID } from 'node:crypto';
import { STRONG_PASSWORD, type SignedIn, login, registerTeam } from './helpers/auth';
import { HttpClient } from './helpers/http';
import { enrolMfa } from './helpers/mfa';
import { OtlpReceiver, type ReceivedSpan } from './helpers/otlp-receiver';
import { type TestApp, type TestDatabase, createTestDatabase } from './helpers/test-app';
import { LOCAL_RECEIVER_PORTS, WebhookReceiver, eventually } from './helpers/webhook-receiver';
import { type SpawnedApp, spawnApp } from './reliability/spawn-app';

/** Waits until a synchronous read of what arrived satisfies `done`. */
const until = <T>(read: () => T, done: (value: T) => boolean) => eventually(() => Promise.resolve(read()), done);

const SERVER = 2;
const CLIENT = 3;

/**
 * Tracing end to end, against the real entry point in a child process: OpenTelemetry's instrumentations patch
 * modules through Node's require hooks, which Jest's own module registry bypasses, and the point to prove is
 * main.ts's order (tracing before http, pg and fastify load). The child exports OTLP/HTTP to a collector this
 * test runs on loopback.
 */
describe('tracing (OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  let collector: OtlpReceiver;
  let hooks: WebhookReceiver;
  let database: TestDatabase;
  let app: SpawnedApp;
  let t: TestApp;
  let admin: SignedIn;

  beforeAll(async () => {
    collector = await new OtlpReceiver().start();
    hooks = await new WebhookReceiver().start();
    database = await createTestDatabase();
    app = await spawnApp({
      DATABASE_URL: database.url,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_SERVICE_NAME: 'hearth-crm-test',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_ALLOWED_PORTS: LOCAL_RECEIVER_PORTS,
      LOG_LEVEL: 'info',
    });
    // The helpers only need an HTTP client on the app.
    t = { http: new HttpClient(app.baseUrl) } as TestApp;
    admin = await registerTeam(t);
  }, 120_000);
  afterAll(async () => {
    if (app) {
      app.child.kill('SIGTERM');
      await app.exited;
    }
    await database?.drop();
    await collector?.close();
    await hooks?.close();
  });

  const serverSpan = (route: string, method = 'GET') =>
    until(
      () =>
        collector.spans.find(
          (s) =>
            s.kind === SERVER && s.attributes['http.route'] === route && s.attributes['http.request.method'] === method,
        ),
      (s) => s !== undefined,
    ) as Promise<ReceivedSpan>;
  /** The spans under `root` (any depth). */
  const within = (root: ReceivedSpan) => {
    const spans = collector.spans;
    return spans.filter(
      (s) => s.traceId === root.traceId && collector.ancestors(s, spans).some((a) => a.spanId === root.spanId),
    );
  };
  const statementOf = (s: ReceivedSpan) => String(s.attributes['db.query.text'] ?? s.attributes['db.statement'] ?? '');

  it('an HTTP request has a server span named after its route, with the SQL it ran as child spans', async () => {
    const missing = randomUUID();
    expect((await t.http.get('/v1/clients', { token: admin.accessToken })).status).toBe(200);
    expect((await t.http.get(`/v1/clients/${missing}`, { token: admin.accessToken })).status).toBe(404);

    const list = await serverSpan('/v1/clients');
    expect(list.service).toBe('hearth-crm-test');
    expect(list.name).toBe('GET /v1/clients');
    const listSql = await until(
      () =>
        within(list).filter(
          (s) => s.attributes['db.system.name'] === 'postgresql' || s.attributes['db.system'] === 'postgresql',
        ),
      (spans) => spans.some((s) => /FROM clients/i.test(statementOf(s))),
    );
    // Children of the request: the pg spans hang under the HTTP server span (through Fastify's request span).
    for (const pg of listSql) expect(collector.ancestors(pg).map((a) => a.spanId)).toContain(list.spanId);

    const get = await serverSpan('/v1/clients/:id');
    expect(get.attributes['http.response.status_code']).toBe(404);
    // The route pattern names the span; the id is in no attribute except the request's own URL.
    for (const span of within(get).concat(get))
      for (const [key, value] of Object.entries(span.attributes))
        if (String(value).includes(missing)) expect(['url.path', 'url.full', 'http.target', 'http.url']).toContain(key);
  });

  it('records SQL statements with their placeholders, never the parameter values', async () => {
    const email = `nobody-${randomUUID()}@example.com`;
    expect((await login(t, email, STRONG_PASSWORD)).status).toBe(401);
    const signIn = await serverSpan('/v1/auth/login', 'POST');
    const statements = await until(
      () => within(signIn).filter((s) => statementOf(s) !== ''),
      (spans) => spans.some((s) => /\$1/.test(statementOf(s))),
    );
    expect(statements.length).toBeGreaterThan(0);
    const everything = JSON.stringify(collector.spans);
    expect(everything).not.toContain(email);
    // Nor the ids a team-scoped statement carries inline (team, user).
    expect(everything).not.toContain(admin.teamId);
    expect(everything).not.toContain(admin.userId);
    expect(everything).not.toContain(STRONG_PASSWORD);
    expect(everything).not.toContain('db.postgresql.values');
  });

  it('puts the trace id in the log lines written during the request', async () => {
    const missing = randomUUID();
    expect((await t.http.get(`/v1/leads/${missing}`, { token: admin.accessToken })).status).toBe(404);
    const span = await serverSpan('/v1/leads/:id');
    const line = await until(
      () =>
        app
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, any>)
          .find((l) => l.req?.url === `/v1/leads/${missing}`),
      (l) => l !== undefined,
    );
    expect(line!.trace_id).toBe(span.traceId);
    expect(line!.span_id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('an outbound webhook delivery has its span, with the POST as a client span under it', async () => {
    await enrolMfa(t, admin.accessToken);
    const hook = await t.http.post(
      '/v1/webhooks',
      { url: `${hooks.url}/traced`, events: ['client.created'] },
      { token: admin.accessToken },
    );
    expect(hook.status).toBe(201);
    const lastName = `Quixote-${randomUUID().slice(0, 8)}`;
    const created = await t.http.post('/v1/clients', { firstName: 'Ada', lastName }, { token: admin.accessToken });
    expect(created.status).toBe(201);
    const delivery = await until(
      () => collector.spans.find((s) => s.name === 'webhook delivery'),
      (s) => s !== undefined,
    );
    expect(delivery!.attributes['hearth.webhook.id']).toBe(hook.body.data.id);
    expect(delivery!.attributes['http.response.status_code']).toBe(200);
    const post = await until(
      () =>
        collector.spans.find(
          (s) =>
            s.kind === CLIENT &&
            s.parentSpanId === delivery!.spanId &&
            s.attributes['http.request.method'] !== undefined,
        ),
      (s) => s !== undefined,
    );
    expect(post!.attributes['http.request.method']).toBe('POST');
    expect(hooks.received.length).toBe(1);
    // The receiver got the trace context too (W3C traceparent), so its own spans can join the trace.
    expect(hooks.received[0]!.headers.traceparent).toContain(delivery!.traceId);
    // The insert's values (inlined as literals by the scoped batch) are masked in its statement text.
    const insert = await serverSpan('/v1/clients', 'POST');
    expect(within(insert).some((s) => /INSERT INTO clients/i.test(statementOf(s)))).toBe(true);
    expect(JSON.stringify(collector.spans)).not.toContain(lastName);
  });

  it('the metrics scrape and health probes start no traces', async () => {
    expect((await t.http.get('/health')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(
      collector.spans.some((s) => s.kind === SERVER && String(s.attributes['url.path']).startsWith('/health')),
    ).toBe(false);
  });
});
