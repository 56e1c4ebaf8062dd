import { WebhookDispatcher } from '../src/modules/webhooks/webhook-dispatcher';
import { registerTeam, type SignedIn } from './helpers/auth';
import { enrolMfa } from './helpers/mfa';
import { type TestApp, createTestDatabase, startTestApp } from './helpers/test-app';
import { LOCAL_RECEIVER_PORTS, WebhookReceiver, eventually } from './helpers/webhook-receiver';

/**
 * Webhook targets and delivery across instances: with WEBHOOK_ALLOW_PRIVATE_TARGETS=false a hook cannot
 * point at loopback, private, link-local or metadata addresses (in any spelling, or through a hostname that
 * resolves there, or with credentials in the URL), and a target that turns private after creation is not
 * called at delivery. Two instances on one database share the outbox: every event reaches the receiver
 * exactly once.
 */
describe('webhook targets (WEBHOOK_ALLOW_PRIVATE_TARGETS=false)', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let admin: SignedIn;

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    // The receiver's ephemeral port is allowed, so that the address rule (not the port rule) refuses loopback.
    t = await startTestApp({
      env: {
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false',
        WEBHOOK_ALLOWED_PORTS: LOCAL_RECEIVER_PORTS,
        WEBHOOK_RETRY_BASE_SECONDS: '0.2',
      },
    });
    admin = await registerTeam(t);
    await enrolMfa(t, admin.accessToken);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it.each([
    ['loopback', () => `${receiver.url}/hook`],
    ['loopback, other spelling', () => 'http://127.1:80/'],
    ['decimal loopback', () => 'http://2130706433/'],
    ['private 10/8', () => 'http://10.1.2.3/hook'],
    ['private 192.168/16', () => 'https://192.168.1.1/hook'],
    ['IPv6 loopback', () => 'http://[::1]:8080/hook'],
    ['IPv4-mapped loopback', () => 'http://[::ffff:127.0.0.1]/hook'],
    ['metadata', () => 'http://169.254.169.254/latest/meta-data/'],
    ['IPv6 metadata', () => 'http://[fd00:ec2::254]/'],
    ['CGNAT', () => 'http://100.64.0.1/'],
    ['0.0.0.0', () => 'http://0.0.0.0:3000/'],
    ['a hostname resolving to loopback', () => 'http://localhost:3000/hook'],
    ['credentials in the URL', () => 'https://user:pass@example.com/hook'],
    ['another scheme', () => 'ftp://example.com/hook'],
  ])('refuses %s with 400', async (_name, url) => {
    const res = await t.http.post('/v1/webhooks', { url: url(), events: ['*'] }, { token: admin.accessToken });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(res.body.error.details[0].field).toBe('url');
  });

  it.each([
    'https://93.184.216.34:25/',
    'https://93.184.216.34:0025/hook',
    'http://93.184.216.34:22/',
    'https://93.184.216.34:23/',
  ])(
    'refuses the public target %s: its port is not in WEBHOOK_ALLOWED_PORTS (400 at create and at update)',
    async (url) => {
      const res = await t.http.post('/v1/webhooks', { url, events: ['*'] }, { token: admin.accessToken });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(res.body.error.details[0]).toEqual({
        field: 'url',
        errors: [expect.stringMatching(/^url port \d+ is not allowed/)],
      });
      const ok = await t.http.post(
        '/v1/webhooks',
        { url: 'https://93.184.216.34/', events: ['*'] },
        { token: admin.accessToken },
      );
      expect(ok.status).toBe(201);
      const patch = await t.http.patch(`/v1/webhooks/${ok.body.data.id}`, { url }, { token: admin.accessToken });
      expect(patch.status).toBe(400);
      await t.http.delete(`/v1/webhooks/${ok.body.data.id}`, { token: admin.accessToken });
    },
  );

  it('checks the port again at every delivery (/test included): a stored target on another port is never called', async () => {
    const created = await t.http.post(
      '/v1/webhooks',
      { url: 'https://93.184.216.34/hook', events: ['client.created'] },
      { token: admin.accessToken },
    );
    expect(created.status).toBe(201);
    const id = created.body.data.id;
    // As if the rule had been looser when it was stored: a public host's SMTP port (nothing is sent there).
    await t.dataSource.query(`UPDATE webhooks SET url = $1 WHERE id = $2`, [`http://93.184.216.34:25/smtp`, id]);
    const test = await t.http.post(`/v1/webhooks/${id}/test`, undefined, { token: admin.accessToken });
    expect(test.status).toBe(202);
    const [delivery] = await eventually(
      async () => (await t.http.get(`/v1/webhooks/${id}/deliveries`, { token: admin.accessToken })).body.data,
      (d: any[]) => d[0]?.attempts >= 1,
    );
    expect(delivery.lastError).toBe('refused: url port 25 is not allowed (WEBHOOK_ALLOWED_PORTS)');
    expect(delivery.lastStatusCode).toBeNull();
    await t.http.delete(`/v1/webhooks/${id}`, { token: admin.accessToken });
  });

  it('refuses a private URL on PATCH, and does not call a target that turned private after creation', async () => {
    // A public address literal passes (no DNS needed); nothing is sent to it: the URL is switched at once.
    const created = await t.http.post(
      '/v1/webhooks',
      { url: 'http://93.184.216.34/hook', events: ['client.created'] },
      { token: admin.accessToken },
    );
    expect(created.status).toBe(201);
    const id = created.body.data.id;
    const patch = await t.http.patch(`/v1/webhooks/${id}`, { url: `${receiver.url}/x` }, { token: admin.accessToken });
    expect(patch.status).toBe(400);

    // DNS rebinding stand-in: the stored target now points at the local receiver.
    await t.dataSource.query(`UPDATE webhooks SET url = $1 WHERE id = $2`, [`${receiver.url}/rebound`, id]);
    await t.http.post('/v1/clients', { firstName: 'Not', lastName: 'Sent' }, { token: admin.accessToken });
    const [delivery] = await eventually(
      async () => (await t.http.get(`/v1/webhooks/${id}/deliveries`, { token: admin.accessToken })).body.data,
      (d: any[]) => d[0]?.attempts >= 2,
    );
    expect(delivery.lastError).toMatch(/^refused: .*loopback/);
    expect(delivery.lastStatusCode).toBeNull();
    // Two attempts were made and refused before connecting: the receiver saw none of them.
    expect(receiver.received.filter((h) => h.path === '/rebound')).toHaveLength(0);
  });
});

describe('webhooks with two instances on one database', () => {
  let a: TestApp;
  let b: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    // A receiver that takes a moment, so both instances have work in flight at once.
    receiver.respond = () => new Promise((r) => setTimeout(() => r(200), 20));
    const env = {
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_ALLOWED_PORTS: LOCAL_RECEIVER_PORTS,
      WEBHOOK_RETRY_BASE_SECONDS: '0.2',
    };
    a = await startTestApp({ env });
    b = await startTestApp({ env, database: a.database });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await receiver?.close();
  });

  it('delivers each event exactly once, within 5 s of its commit', async () => {
    const admin = await registerTeam(a);
    await enrolMfa(a, admin.accessToken);
    const hook = await a.http.post(
      '/v1/webhooks',
      { url: `${receiver.url}/shared`, events: ['client.created'] },
      { token: admin.accessToken },
    );
    expect(hook.status).toBe(201);
    const N = 40;
    const committed = new Map<string, number>();
    await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const app = i % 2 ? b : a;
        const res = await app.http.post(
          '/v1/clients',
          { firstName: `Shared${i}`, lastName: 'Once' },
          { token: admin.accessToken },
        );
        expect(res.status).toBe(201);
        committed.set(res.body.data.id, Date.now());
      }),
    );
    const hits = await receiver.waitFor((h) => h.path === '/shared', N);
    // Every delivery is recorded as succeeded on its first attempt: nothing is left to send.
    const rows = await eventually(
      () =>
        a.dataSource.query(`SELECT status, attempts FROM webhook_deliveries WHERE webhook_id = $1`, [
          hook.body.data.id,
        ]),
      (r: any[]) => r.length === N && r.every((d) => d.status === 'succeeded'),
    );
    expect(rows.every((d: any) => d.attempts === 1)).toBe(true);
    const received = receiver.received.filter((h) => h.path === '/shared');
    expect(received).toHaveLength(N);
    expect(new Set(received.map((h) => h.headers['webhook-id'])).size).toBe(N);
    expect(new Set(received.map((h) => h.json.data.id))).toEqual(new Set(committed.keys()));
    // The attempts the two instances made add up to N: no event was sent by both.
    const made = [a, b].map((app) => app.app.get(WebhookDispatcher).attemptsMade);
    expect(made[0]! + made[1]!).toBe(N);
    const worst = Math.max(...hits.map((h) => h.at - committed.get(h.json.data.id)!));
    expect(worst).toBeLessThan(5_000);
  });
});

describe('webhook dispatcher shutdown', () => {
  it('closes without waiting for a hung receiver and hands the attempt back, not counted', async () => {
    const receiver = await new WebhookReceiver().start();
    const database = await createTestDatabase();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    receiver.respond = async () => {
      await held;
      return 200;
    };
    try {
      const app = await startTestApp({
        database,
        env: {
          WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
          WEBHOOK_ALLOWED_PORTS: LOCAL_RECEIVER_PORTS,
          WEBHOOK_TIMEOUT_MS: '60000',
        },
      });
      const admin = await registerTeam(app);
      await enrolMfa(app, admin.accessToken);
      const hook = await app.http.post(
        '/v1/webhooks',
        { url: `${receiver.url}/held`, events: ['client.created'] },
        { token: admin.accessToken },
      );
      await app.http.post('/v1/clients', { firstName: 'Held', lastName: 'Up' }, { token: admin.accessToken });
      await receiver.waitFor((h) => h.path === '/held');
      const started = Date.now();
      await app.close();
      // The 60 s attempt was cut short after the dispatcher's grace (3 s), not waited for.
      expect(Date.now() - started).toBeLessThan(20_000);
      const { Client } = await import('pg');
      const pg = new Client({ connectionString: database.url });
      await pg.connect();
      const { rows } = await pg.query(
        `SELECT status, attempts, next_attempt_at <= now() AS due FROM webhook_deliveries WHERE webhook_id = $1`,
        [hook.body.data.id],
      );
      await pg.end();
      expect(rows).toEqual([{ status: 'pending', attempts: 0, due: true }]);
    } finally {
      release();
      await receiver.close();
      await database.drop();
    }
  });
});
