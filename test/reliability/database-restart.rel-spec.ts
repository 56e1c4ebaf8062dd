import { freePort } from '../../src/common/net/free-port';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createApp } from '../../src/app.factory';
import { loadConfig } from '../../src/config/app-config';
import { runMigrations } from '../../src/database/migrate';
import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { TEST_DATA_DIR } from '../setup/paths';
import { HttpClient } from '../helpers/http';
import { STRONG_PASSWORD } from '../helpers/auth';
import { TEST_ENCRYPTION_KEY, TEST_JWT_SECRET } from '../helpers/test-app';

/**
 * PostgreSQL is stopped and started again under a steady write load. While it is down the API answers
 * 503 SERVICE_UNAVAILABLE (never a 500 or a hang); within 5 s of its return writes succeed again; and every
 * write the API acknowledged is in the database with its audit row.
 */
describe('database outage under load', () => {
  const dataDir = join(TEST_DATA_DIR, `restart-${randomBytes(3).toString('hex')}`);
  let pg: ChildProcess;
  let pgOut = '';
  let app: NestFastifyApplication;
  let http: HttpClient;
  let db: { url: string };

  /** Sends a command to the database process and waits for its answer. */
  const control = async (command: 'start' | 'stop' | 'exit', expect: RegExp) => {
    const before = pgOut.length;
    pg.stdin!.write(`${command}\n`);
    const deadline = Date.now() + 30_000;
    while (!expect.test(pgOut.slice(before))) {
      if (Date.now() > deadline) throw new Error(`database process did not answer ${command}: ${pgOut}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(async () => {
    mkdirSync(dataDir, { recursive: true });
    const port = await freePort();
    pg = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(__dirname, 'embedded-pg-process.ts'), dataDir, String(port)],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    pg.stdout!.on('data', (c: Buffer) => (pgOut += c.toString()));
    const deadline = Date.now() + 60_000;
    while (!/ready (\S+)/.test(pgOut)) {
      if (Date.now() > deadline) throw new Error(`embedded database did not start: ${pgOut}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    db = { url: /ready (\S+)/.exec(pgOut)![1]! };
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.DEBUG_RESTART ? 'warn' : 'silent',
      DATA_DIR: dataDir,
      DATABASE_URL: db.url,
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      RATE_LIMIT_GLOBAL_MAX: '1000000',
      DB_QUERY_TIMEOUT_MS: '3000',
    });
    await runMigrations(config, db.url);
    app = await createApp(config, { databaseUrl: db.url });
    await app.listen({ port: 0, host: '127.0.0.1' });
    http = new HttpClient(`http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`);
  });

  afterAll(async () => {
    await app?.close();
    if (pg && pg.exitCode === null) {
      await control('exit', /stopped/).catch(() => pg.kill('SIGKILL'));
    }
  });

  it('answers 503 while the database is down, recovers within 5 s, and loses no acknowledged write', async () => {
    const reg = await http.post('/v1/auth/register', {
      email: `outage-${Date.now()}@example.com`,
      password: STRONG_PASSWORD,
      firstName: 'Out',
      lastName: 'Age',
      teamName: 'Outage',
    });
    expect(reg.status).toBe(201);
    const token: string = reg.body.data.accessToken;

    const acknowledged: string[] = [];
    const statuses = new Map<number, number>();
    const unexpected: string[] = [];
    let stop = false;
    let n = 0;
    const worker = async () => {
      while (!stop) {
        const res = await http
          .post('/v1/clients', { firstName: 'Load', lastName: `N${n++}` }, { token })
          .catch((err: Error) => {
            unexpected.push(`transport: ${err.message}`);
            return undefined;
          });
        if (!res) continue;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 201) acknowledged.push(res.body.data.id);
        else if (res.status === 503) {
          expect(res.body.error.code).toBe('SERVICE_UNAVAILABLE');
          await new Promise((r) => setTimeout(r, 20));
        } else unexpected.push(`${res.status} ${res.text.slice(0, 200)}`);
      }
    };
    const workers = Array.from({ length: 4 }, worker);

    await new Promise((r) => setTimeout(r, 1500));
    const beforeOutage = acknowledged.length;
    await control('stop', /stopped/);
    await new Promise((r) => setTimeout(r, 1500));
    const ready = await http.get('/health/ready');
    expect(ready.status).toBe(503);
    const duringOutage = acknowledged.length;

    await control('start', /ready/);
    const back = Date.now();
    while (acknowledged.length === duringOutage && Date.now() - back < 10_000)
      await new Promise((r) => setTimeout(r, 25));
    const recoveryMs = Date.now() - back;
    await new Promise((r) => setTimeout(r, 1000));
    stop = true;
    await Promise.all(workers);

    expect(beforeOutage).toBeGreaterThan(0);
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    expect(recoveryMs).toBeLessThan(5000);
    expect(acknowledged.length).toBeGreaterThan(duringOutage);
    expect(unexpected).toEqual([]);

    const { Client } = await import('pg');
    const check = new Client({ connectionString: db.url });
    await check.connect();
    try {
      const found = await check.query(`SELECT id FROM clients WHERE id = ANY($1::uuid[])`, [acknowledged]);
      expect(found.rowCount).toBe(acknowledged.length);
      const audited = await check.query(
        `SELECT DISTINCT resource_id FROM audit_log WHERE action = 'CREATE' AND resource_id = ANY($1::uuid[])`,
        [acknowledged],
      );
      expect(audited.rowCount).toBe(acknowledged.length);
    } finally {
      await check.end();
    }
  }, 90_000);
});
