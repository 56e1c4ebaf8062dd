import { Client } from 'pg';
import { registerTeam } from '../helpers/auth';
import { HttpClient } from '../helpers/http';
import { enrolMfa } from '../helpers/mfa';
import { type TestApp, type TestDatabase, createTestDatabase } from '../helpers/test-app';
import { LOCAL_RECEIVER_PORTS, WebhookReceiver, eventually } from '../helpers/webhook-receiver';
import { type SpawnedApp, spawnApp } from './spawn-app';

/**
 * At least once across a crash (contract: "an acknowledged change is sent even if the process dies right
 * after"): the real entry point in its own process takes N writes while the receiver holds every delivery
 * unanswered, is killed with SIGKILL right after the last acknowledgement (nothing delivered yet, some
 * deliveries leased mid-attempt), and a new process on the same database sends every event.
 */
describe('webhooks survive kill -9', () => {
  let db: TestDatabase;
  let receiver: WebhookReceiver;
  let first: SpawnedApp | undefined;
  let second: SpawnedApp | undefined;
  const env = () => ({
    DATABASE_URL: db.url,
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_ALLOWED_PORTS: LOCAL_RECEIVER_PORTS,
    WEBHOOK_TIMEOUT_MS: '2000',
    WEBHOOK_RETRY_BASE_SECONDS: '0.2',
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    receiver = await new WebhookReceiver().start();
  });
  afterAll(async () => {
    for (const app of [first, second]) if (app && app.child.exitCode === null) app.child.kill('SIGKILL');
    await receiver?.close();
    await db?.drop();
  });

  it('every acknowledged write is delivered after a restart', async () => {
    first = await spawnApp(env());
    const t = { http: new HttpClient(first.baseUrl) } as TestApp;
    const admin = await registerTeam(t);
    await enrolMfa(t, admin.accessToken);
    const hook = await t.http.post(
      '/v1/webhooks',
      { url: `${receiver.url}/crash`, events: ['client.created'] },
      { token: admin.accessToken },
    );
    expect(hook.status).toBe(201);

    // The receiver takes requests but answers none while the first process lives.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    receiver.respond = async () => {
      await gate;
      return 200;
    };

    const N = 25;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const res = await t.http.post(
        '/v1/clients',
        { firstName: `Crash${i}`, lastName: 'Test' },
        { token: admin.accessToken },
      );
      expect(res.status).toBe(201);
      ids.push(res.body.data.id);
    }
    first.child.kill('SIGKILL');
    await first.exited;

    // Nothing was confirmed delivered by the dead process: the test is not vacuous.
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      const before = await pg.query(
        `SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS done, count(*)::int AS total
           FROM webhook_deliveries WHERE webhook_id = $1`,
        [hook.body.data.id],
      );
      expect(before.rows[0]).toEqual({ done: 0, total: N });

      receiver.respond = () => 200;
      release();
      second = await spawnApp(env());
      await eventually(
        async () =>
          (
            await pg.query(
              `SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'succeeded'`,
              [hook.body.data.id],
            )
          ).rows[0].n as number,
        (n) => n === N,
        60_000,
      );
    } finally {
      await pg.end();
    }
    // Every event reached the receiver (possibly twice for one caught mid-attempt, under the same webhook-id).
    const hits = receiver.received.filter((h) => h.path === '/crash');
    expect(new Set(hits.map((h) => h.json.data.id))).toEqual(new Set(ids));
    const idsPerEvent = new Map<string, Set<string>>();
    for (const h of hits) {
      const set = idsPerEvent.get(h.json.data.id) ?? new Set<string>();
      set.add(String(h.headers['webhook-id']));
      idsPerEvent.set(h.json.data.id, set);
    }
    for (const set of idsPerEvent.values()) expect(set.size).toBe(1);
  }, 180_000);
});
