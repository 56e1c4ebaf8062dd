import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http';
import { Client } from 'pg';
import { STRONG_PASSWORD, type SignedIn, loginOk, registerTeam } from '../helpers/auth';
import { HttpClient } from '../helpers/http';
import { type Enrolled, enrolMfa } from '../helpers/mfa';
import { readOutbox } from '../helpers/outbox';
import { type RedisServer, describeWithRedis, startRedis } from '../helpers/redis-server';
import { type TestApp, type TestDatabase, createTestDatabase } from '../helpers/test-app';
import { LOCAL_RECEIVER_PORTS, WebhookReceiver, eventually } from '../helpers/webhook-receiver';
import { type SpawnedApp, spawnApp } from './spawn-app';

/**
 * A fleet as deployed (docker-compose.yml): three instances of the real entry point (src/main.ts) on one
 * PostgreSQL and one redis-server, behind a round-robin reverse proxy that forwards the client's address in
 * X-Forwarded-For (instances trust loopback proxies, TRUST_PROXY=loopback), takes an instance out while its
 * readiness answers 503 (as a load balancer's health check does) and tries the next one only when a connection
 * could not be made (nothing was sent). Under a steady load of writes and reads through the proxy:
 * (a) the login failure limit is shared: the failure past RATE_LIMIT_LOGIN_MAX is 429 on every instance;
 * (b) a rolling restart (a replacement joins, the old instance gets SIGTERM and drains; one at a time) fails no
 *     request;
 * (c) every acknowledged write is in the database with its audit row;
 * (d) jobs run once across the instances: a task's reminder mail, each webhook event's delivery;
 * (e) logout-all and an API key's revocation on one instance hold on the others within a second.
 */
describeWithRedis('fleet: three instances, one database, one Redis, behind a proxy', () => {
  let db: TestDatabase;
  let redis: RedisServer;
  let receiver: WebhookReceiver;
  const apps: (SpawnedApp | undefined)[] = [];
  const everyApp: SpawnedApp[] = [];
  let proxy: RoundRobinProxy;
  let http: HttpClient;
  let admin: SignedIn;
  let mfa: Enrolled;

  const LOGIN_LIMIT = 6;
  const env = () => ({
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    TRUST_PROXY: 'loopback',
    RATE_LIMIT_LOGIN_MAX: String(LOGIN_LIMIT),
    MAX_LOGIN_ATTEMPTS: '1000',
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_ALLOWED_PORTS: LOCAL_RECEIVER_PORTS,
    WEBHOOK_RETRY_BASE_SECONDS: '0.2',
    TASK_REMINDER_INTERVAL_SECONDS: '0.1',
    TASK_REMINDER_MINUTES: '60',
    REQUIRE_MFA_FOR_ADMIN_ACTIONS: 'false',
    // The proxy's readiness checks (10 per second per instance) come from one address.
    RATE_LIMIT_HEALTH_MAX: '1000000',
  });
  const start = async (i: number) => {
    const app = await spawnApp(env());
    apps[i] = app;
    everyApp.push(app);
    proxy.upstreams[i] = app.baseUrl;
    return app;
  };

  beforeAll(async () => {
    [db, redis, receiver] = await Promise.all([createTestDatabase(), startRedis(), new WebhookReceiver().start()]);
    proxy = await new RoundRobinProxy().start();
    // All three at once: migrations at start take an advisory lock, so one migrates and the others wait.
    await Promise.all([start(0), start(1), start(2)]);
    http = new HttpClient(proxy.url);
    admin = await registerTeam({ http } as TestApp, { teamName: 'Fleet' });
    // 2FA: webhooks and API keys need it; its backup codes serve as one-time codes below.
    mfa = await enrolMfa({ http } as TestApp, admin.accessToken);
  }, 120_000);

  afterAll(async () => {
    for (const app of everyApp) if (app.child.exitCode === null) app.child.kill('SIGKILL');
    await Promise.all([proxy?.close(), receiver?.close(), redis?.stop()]);
    await db?.drop();
  });

  /** Writes and reads through the proxy until stopped; every answer other than 2xx is a failure. */
  const steadyLoad = (workers: number) => {
    const created: string[] = [];
    const failures: string[] = [];
    let requests = 0;
    let running = true;
    const worker = async (w: number) => {
      for (let i = 0; running; i++) {
        try {
          const res = await http.post(
            '/v1/clients',
            { firstName: `Load${w}`, lastName: `Write ${i}` },
            { token: admin.accessToken },
          );
          requests++;
          if (res.status === 201) created.push(res.body.data.id as string);
          else failures.push(`POST ${res.status} ${res.text.slice(0, 200)}`);
          const list = await http.get('/v1/clients?limit=5', { token: admin.accessToken });
          requests++;
          if (list.status !== 200) failures.push(`GET ${list.status} ${list.text.slice(0, 200)}`);
        } catch (err) {
          failures.push(`transport: ${(err as Error).message} ${(err as { cause?: Error }).cause?.message ?? ''}`);
        }
      }
    };
    const done = Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
    return {
      created,
      failures,
      requests: () => requests,
      stop: async () => {
        running = false;
        await done;
      },
    };
  };

  it('(a) the login failure limit holds across instances: failure N+1 is 429 whichever instance answers', async () => {
    const load = steadyLoad(3);
    try {
      const attacker = { 'x-test-client-ip': '198.51.100.23' };
      const answers: { status: number; upstream: string }[] = [];
      // Each attempt pinned to the next instance in turn (x-test-upstream), so all three count and refuse.
      for (let i = 0; i < LOGIN_LIMIT + 6; i++) {
        const res = await http.post(
          '/v1/auth/login',
          { email: admin.email, password: 'Wrong-Password-123!' },
          { headers: { ...attacker, 'x-test-upstream': String(i % 3) } },
        );
        answers.push({ status: res.status, upstream: res.headers.get('x-upstream') ?? '' });
      }
      expect(answers.slice(0, LOGIN_LIMIT).map((a) => a.status)).toEqual(Array(LOGIN_LIMIT).fill(401));
      expect(new Set(answers.slice(0, LOGIN_LIMIT).map((a) => a.upstream)).size).toBe(3);
      expect(answers.slice(LOGIN_LIMIT).map((a) => a.status)).toEqual(Array(6).fill(429));
      expect(new Set(answers.slice(LOGIN_LIMIT).map((a) => a.upstream)).size).toBe(3);
      // Another client address is not affected (the proxy's own address is not what is counted).
      const other = await http.post(
        '/v1/auth/login',
        { email: admin.email, password: 'Wrong-Password-123!' },
        { headers: { 'x-test-client-ip': '198.51.100.99' } },
      );
      expect(other.status).toBe(401);
    } finally {
      await load.stop();
    }
    expect(load.failures).toEqual([]);
  }, 60_000);

  it('(b, c) a rolling restart under load fails no request; every acknowledged write has its audit row', async () => {
    const load = steadyLoad(4);
    try {
      // A rolling update with surge: the replacements boot meanwhile (in parallel, to keep the test short), then
      // one instance at a time joins the rotation and the one it replaces gets SIGTERM and drains.
      const replacements = await Promise.all(apps.map(() => spawnApp(env())));
      for (let i = 0; i < 3; i++) {
        const old = apps[i]!;
        const fresh = replacements[i]!;
        everyApp.push(fresh);
        proxy.upstreams.push(fresh.baseUrl);
        const before = load.requests();
        old.child.kill('SIGTERM');
        expect(await old.exited).toBe(0);
        proxy.upstreams = proxy.upstreams.filter((u) => u !== old.baseUrl);
        apps[i] = fresh;
        // The others carried the load meanwhile.
        expect(load.requests()).toBeGreaterThan(before);
      }
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await load.stop();
    }
    expect(load.failures).toEqual([]);
    expect(load.created.length).toBeGreaterThan(20);

    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      const rows = await pg.query<{ id: string; audited: number }>(
        `SELECT c.id, (SELECT count(*)::int FROM audit_log a
                        WHERE a.team_id = c.team_id AND a.resource_type = 'client' AND a.resource_id = c.id
                          AND a.action = 'CREATE') AS audited
           FROM clients c WHERE c.id = ANY ($1::uuid[])`,
        [load.created],
      );
      expect(rows.rows.length).toBe(load.created.length);
      expect(rows.rows.filter((r) => r.audited !== 1)).toEqual([]);
    } finally {
      await pg.end();
    }
  }, 150_000);

  it('(d) jobs run once across instances: one reminder mail per task, one delivery per webhook event', async () => {
    const title = `Fleet reminder ${Date.now()}`;
    const task = await http.post(
      '/v1/tasks',
      { title, dueAt: new Date(Date.now() + 30 * 60_000).toISOString() },
      { token: admin.accessToken },
    );
    expect(task.status).toBe(201);
    const mails = () =>
      everyApp
        .flatMap((app) => readOutbox({ dataDir: app.dataDir } as TestApp))
        .filter((m) => m.subject.includes(title));
    await eventually(
      () => Promise.resolve(mails().length),
      (n) => n >= 1,
      15_000,
    );
    // Three instances ticking every 100 ms: a second claim would have come within a few ticks.
    const claimed = await waitForQuiet(() => mails().length, 1_000);
    expect(claimed).toBe(1);

    const hook = await http.post(
      '/v1/webhooks',
      { url: `${receiver.url}/fleet`, events: ['client.created'] },
      { token: admin.accessToken },
    );
    expect(hook.status).toBe(201);
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; i < 8; i++) {
          const res = await http.post(
            '/v1/clients',
            { firstName: `Hook${w}`, lastName: `${i}` },
            { token: admin.accessToken },
          );
          expect(res.status).toBe(201);
          ids.push(res.body.data.id as string);
        }
      }),
    );
    const hits = () => receiver.received.filter((h) => h.path === '/fleet');
    await eventually(
      () => Promise.resolve(new Set(hits().map((h) => h.json.data.id)).size),
      (n) => n === ids.length,
      30_000,
    );
    await waitForQuiet(() => hits().length, 1_000);
    const perEvent = new Map<string, number>();
    for (const h of hits()) perEvent.set(h.json.data.id as string, (perEvent.get(h.json.data.id as string) ?? 0) + 1);
    expect([...perEvent.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(new Set(perEvent.keys())).toEqual(new Set(ids));
  }, 90_000);

  it('(e) logout-all and an API key revocation on one instance hold on the others within a second', async () => {
    const [a, b, c] = apps.map((app) => new HttpClient(app!.baseUrl));
    const session = await loginOk({ http: a! } as TestApp, admin.email, STRONG_PASSWORD, {
      otp: mfa.backupCodes.shift(),
    });
    const created = await a!.post(
      '/v1/api-keys',
      { name: 'fleet', scopes: ['clients:read'], otp: mfa.backupCodes.shift() },
      { token: session.accessToken },
    );
    expect(created.status).toBe(201);
    const key = created.body.data.key as string;
    // Every instance has seen (and cached) the token and the key as valid.
    for (const x of [a, b, c]) {
      expect((await x!.get('/v1/clients?limit=1', { token: session.accessToken })).status).toBe(200);
      expect((await x!.get('/v1/clients?limit=1', { apiKey: key })).status).toBe(200);
    }

    const revoked = await a!.delete(`/v1/api-keys/${created.body.data.id}`, { token: session.accessToken });
    expect([200, 204]).toContain(revoked.status);
    const keyAt = Date.now();
    for (const x of [b, c]) {
      await eventually(
        async () => (await x!.get('/v1/clients?limit=1', { apiKey: key })).status,
        (s) => s === 401,
        5_000,
      );
    }
    expect(Date.now() - keyAt).toBeLessThan(1_000);

    const out = await a!.post('/v1/auth/logout-all', {}, { token: session.accessToken });
    expect([200, 204]).toContain(out.status);
    const outAt = Date.now();
    for (const x of [b, c]) {
      await eventually(
        async () => (await x!.get('/v1/clients?limit=1', { token: session.accessToken })).status,
        (s) => s === 401,
        5_000,
      );
    }
    expect(Date.now() - outAt).toBeLessThan(1_000);
  }, 60_000);
});

/** Reads `value` until it has not changed for `quietMs`; returns it. */
async function waitForQuiet(value: () => number, quietMs: number): Promise<number> {
  let last = value();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    await new Promise((r) => setTimeout(r, 50));
    const now = value();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
  return last;
}

/**
 * Round robin over the upstreams that are ready (GET /health/ready polled every 100 ms, as a load balancer's
 * health check). The client's address goes upstream in X-Forwarded-For (a test sets it with
 * x-test-client-ip); `x-upstream` in the answer says which instance served it. A request is tried on the next
 * upstream only when no connection could be made, so a write is never sent twice.
 */
class RoundRobinProxy {
  upstreams: string[] = [];
  retried = 0;
  url = '';
  private server?: Server;
  private next = 0;
  private readonly ready = new Map<string, boolean>();
  private poller?: NodeJS.Timeout;

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    this.poller = setInterval(() => void this.poll(), 100);
    return this;
  }

  async close(): Promise<void> {
    clearInterval(this.poller);
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async poll(): Promise<void> {
    await Promise.all(
      this.upstreams.map(async (u) => {
        // Out on 503 (draining) or a refused connection; a slow answer keeps the last state.
        const state = await fetch(`${u}/health/ready`, { signal: AbortSignal.timeout(2_000) }).then(
          (r) => r.status !== 503,
          (err: Error) =>
            (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED' ? false : undefined,
        );
        if (state !== undefined) this.ready.set(u, state);
      }),
    );
  }

  private pick(skip: Set<string>, pinned?: number): string | undefined {
    const chosen = pinned === undefined ? undefined : this.upstreams[pinned];
    if (chosen && !skip.has(chosen)) return chosen;
    const live = this.upstreams.filter((u) => this.ready.get(u) !== false && !skip.has(u));
    if (!live.length) return undefined;
    return live[this.next++ % live.length];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const client = String(req.headers['x-test-client-ip'] ?? '203.0.113.10');
    const headers: Record<string, string | string[] | undefined> = {
      ...req.headers,
      'x-forwarded-for': client,
      'content-length': String(body.length),
    };
    const pinned = req.headers['x-test-upstream'] === undefined ? undefined : Number(req.headers['x-test-upstream']);
    delete headers['x-test-client-ip'];
    delete headers['x-test-upstream'];
    delete headers.connection;
    const tried = new Set<string>();
    for (;;) {
      const upstream = this.pick(tried, pinned);
      if (!upstream) {
        res.writeHead(502).end('no upstream');
        return;
      }
      tried.add(upstream);
      const outcome = await new Promise<'done' | 'refused'>((resolve) => {
        const target = new URL(req.url ?? '/', upstream);
        // A new connection per request: no reuse of a socket the instance may be closing.
        const out = request(target, { method: req.method, headers, agent: false }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, { ...answer.headers, 'x-upstream': upstream });
          answer.pipe(res);
          answer.on('end', () => resolve('done'));
          answer.on('error', () => resolve('done'));
        });
        out.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'ECONNREFUSED') return resolve('refused');
          if (!res.headersSent) res.writeHead(502).end(`proxy: ${err.code ?? err.message}`);
          resolve('done');
        });
        out.end(body);
      });
      if (outcome === 'done') return;
      this.retried++;
      this.ready.set(upstream, false);
    }
  }
}
