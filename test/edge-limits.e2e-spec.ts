import { DataSource } from 'typeorm';
import { TEAM_IMPORT_LOCK_NAMESPACE } from '../src/modules/crm/common/crm-import.statements';
import { type SignedIn, STRONG_PASSWORD, loginOk, registerTeam } from './helpers/auth';
import { startPoller } from './helpers/health-poller';
import { HttpClient } from './helpers/http';
import { enrolMfa } from './helpers/mfa';
import { rawUpload } from './helpers/raw-upload';
import { type TestApp, type TestDatabase, createTestDatabase, startTestApp } from './helpers/test-app';
import { type SpawnedApp, spawnApp } from './reliability/spawn-app';

/** A connection of the test's own to a database (the spawned API's). */
async function databaseSource(url: string): Promise<DataSource> {
  return new DataSource({ type: 'postgres', url, extra: { max: 2 } }).initialize();
}

/** 19 MiB: under IMPORT_MAX_BYTES, so only the caller's right to send it can stop it early. */
const NINETEEN_MIB = 19 * 1024 * 1024;

/**
 * API.md, Conventions: a request body is read only for a caller who may send it. Authentication, IP rules,
 * rate limits and the route's permission are decided from the head; a refused request is answered without
 * its body being buffered, and the connection closed if the body keeps coming.
 */
describe('a body is read only for a caller who may send it', () => {
  let t: TestApp;
  let admin: SignedIn;
  let viewer: SignedIn;
  let readKey: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerTeam(t, { teamName: 'Edge' });
    const codes = (await enrolMfa(t, admin.accessToken)).backupCodes;
    admin = await loginOk(t, admin.email, STRONG_PASSWORD, { otp: codes.shift() });
    const viewerEmail = `viewer-${Date.now()}@example.com`;
    const made = await t.http.post(
      '/v1/users',
      { email: viewerEmail, password: STRONG_PASSWORD, firstName: 'Vi', lastName: 'Ewer', role: 'viewer' },
      { token: admin.accessToken },
    );
    expect(made.status).toBe(201);
    viewer = await loginOk(t, viewerEmail, STRONG_PASSWORD);
    const key = await t.http.post(
      '/v1/api-keys',
      { name: 'reader', scopes: ['clients:read'], otp: codes.shift() },
      { token: admin.accessToken },
    );
    expect(key.status).toBe(201);
    readKey = key.body.data.key;
  });
  afterAll(() => t?.close());

  it('an anonymous 19 MiB CSV upload is 401 within a second while the body is still owed, then cut', async () => {
    const upload = rawUpload(t.baseUrl, {
      path: '/v1/clients/import',
      headers: { 'Content-Type': 'text/csv' },
      contentLength: NINETEEN_MIB,
      initial: 'firstName,lastName\nAda,Lovelace\n',
    });
    const answer = await upload.answer;
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ success: false, error: { code: 'UNAUTHENTICATED' } });
    expect(answer.headers.connection).toBe('close');
    expect(answer.atMs).toBeLessThan(1000);
    // Answered with 19 MiB still owed: the server did not wait for (or read) the body.
    expect(upload.sentBytes()).toBeLessThan(1024);
    // The connection does not stay open for the rest.
    const closedAt = await upload.closed;
    expect(closedAt).toBeLessThan(5000);
  });

  it('the same holds for every refusal from the head: wrong credentials, permission, scope; JSON routes too', async () => {
    const cases: { path: string; headers: Record<string, string>; status: number; code: string }[] = [
      {
        path: '/v1/leads/import',
        headers: { Authorization: 'Bearer not-a-token' },
        status: 401,
        code: 'UNAUTHENTICATED',
      },
      { path: '/v1/leads/import', headers: { 'X-API-Key': 'hk_made_up_key' }, status: 401, code: 'UNAUTHENTICATED' },
      {
        path: '/v1/leads/import',
        headers: { Authorization: `Bearer ${viewer.accessToken}` },
        status: 403,
        code: 'FORBIDDEN',
      },
      { path: '/v1/clients/import', headers: { 'X-API-Key': readKey }, status: 403, code: 'INSUFFICIENT_SCOPE' },
      // A JSON route: the 1 MiB cap would stop it anyway, but an anonymous caller gets nothing buffered at all.
      { path: '/v1/clients', headers: {}, status: 401, code: 'UNAUTHENTICATED' },
    ];
    for (const c of cases) {
      const json = c.path === '/v1/clients';
      const upload = rawUpload(t.baseUrl, {
        path: c.path,
        headers: { 'Content-Type': json ? 'application/json' : 'text/csv', ...c.headers },
        contentLength: json ? 1000_000 : NINETEEN_MIB,
        initial: json ? '{"firstName": "' : 'firstName,lastName\n',
      });
      const answer = await upload.answer;
      expect({ path: c.path, status: answer.status, code: answer.body?.error?.code }).toEqual({
        path: c.path,
        status: c.status,
        code: c.code,
      });
      expect(answer.headers.connection).toBe('close');
      await upload.closed;
    }
  });

  it('an unknown route answers 404 without waiting for the body', async () => {
    const upload = rawUpload(t.baseUrl, {
      path: '/v1/no-such-thing',
      headers: { 'Content-Type': 'application/json' },
      contentLength: 500_000,
      initial: '{"a":',
    });
    const answer = await upload.answer;
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('NOT_FOUND');
    await upload.closed;
  });

  it('a caller who may send the body still gets it read: an admin import works over the same raw socket', async () => {
    const csv = 'firstName,lastName\nRaw,Socket\n';
    const upload = rawUpload(t.baseUrl, {
      path: '/v1/clients/import',
      headers: { 'Content-Type': 'text/csv', Authorization: `Bearer ${admin.accessToken}` },
      contentLength: Buffer.byteLength(csv),
      initial: csv,
    });
    const answer = await upload.answer;
    expect(answer.status).toBe(200);
    expect(answer.body.data).toEqual({ created: 1, updated: 0, dryRun: false });
    upload.destroy();
  });
});

describe('rate limits are decided from the head too', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_GLOBAL_MAX: '2' } });
  });
  afterAll(() => t?.close());

  it('past the global limit an upload is 429 with Retry-After, before its body', async () => {
    for (let i = 0; i < 2; i++) expect((await t.http.get('/v1/clients')).status).toBe(401);
    const upload = rawUpload(t.baseUrl, {
      path: '/v1/clients/import',
      headers: { 'Content-Type': 'text/csv' },
      contentLength: NINETEEN_MIB,
      initial: 'firstName\n',
    });
    const answer = await upload.answer;
    expect(answer.status).toBe(429);
    expect(answer.body.error.code).toBe('RATE_LIMIT');
    expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
    expect(answer.headers.connection).toBe('close');
    await upload.closed;
  });
});

/** API.md, Conventions: a client that sends its head or body too slowly is cut after REQUEST_TIMEOUT_MS. */
describe('slow clients are cut', () => {
  const REQUEST_TIMEOUT_MS = 1000;
  const IMPORT_TIMEOUT_MS = 2500;
  // Timers fire late on a loaded machine; this is how late a cut may come and still count as on time.
  const SLACK_MS = 1000;
  let t: TestApp;
  let admin: SignedIn;

  beforeAll(async () => {
    t = await startTestApp({
      env: { REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), IMPORT_TIMEOUT_MS: String(IMPORT_TIMEOUT_MS) },
    });
    admin = await registerTeam(t, { teamName: 'Slow' });
  });
  afterAll(() => t?.close());

  it('a body that stops after a few bytes is 408 REQUEST_TIMEOUT within REQUEST_TIMEOUT_MS, and the connection closed', async () => {
    const upload = rawUpload(t.baseUrl, {
      path: '/v1/auth/login',
      headers: { 'Content-Type': 'application/json' },
      contentLength: 200,
      initial: '{"email":',
    });
    const answer = await upload.answer;
    expect(answer.status).toBe(408);
    expect(answer.body).toEqual({ success: false, error: { code: 'REQUEST_TIMEOUT', message: expect.any(String) } });
    expect(answer.headers.connection).toBe('close');
    expect(answer.atMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(answer.atMs).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
    expect(await upload.closed).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS + 1500);
  });

  it('a head that stops half-way is 408 and closed within REQUEST_TIMEOUT_MS', async () => {
    const upload = rawUpload(t.baseUrl, { path: '/v1/auth/login', contentLength: 10, headBytes: 30 });
    const answer = await upload.answer;
    expect(answer.status).toBe(408);
    expect(answer.body.error.code).toBe('REQUEST_TIMEOUT');
    expect(answer.atMs).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
    expect(await upload.closed).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS + 500);
  });

  it('an authorised import gets IMPORT_TIMEOUT_MS: still open after REQUEST_TIMEOUT_MS, 408 after IMPORT_TIMEOUT_MS', async () => {
    const upload = rawUpload(t.baseUrl, {
      path: '/v1/leads/import',
      headers: { 'Content-Type': 'text/csv', Authorization: `Bearer ${admin.accessToken}` },
      contentLength: 100_000,
      initial: 'firstName,lastName\nSlow,',
    });
    let answeredEarly = false;
    void upload.answer.then((a) => (answeredEarly = a.atMs < REQUEST_TIMEOUT_MS + SLACK_MS));
    const answer = await upload.answer;
    expect(answeredEarly).toBe(false);
    expect(answer.status).toBe(408);
    expect(answer.body.error.code).toBe('REQUEST_TIMEOUT');
    expect(answer.atMs).toBeGreaterThanOrEqual(IMPORT_TIMEOUT_MS - 50);
    expect(answer.atMs).toBeLessThan(IMPORT_TIMEOUT_MS + SLACK_MS);
    await upload.closed;
    // The team's import slot was given back: the next import runs.
    const next = await t.http.request('POST', '/v1/leads/import', {
      token: admin.accessToken,
      rawBody: 'firstName,lastName\nAfter,Timeout\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(next.status).toBe(200);
  });

  it('a body that keeps coming in time is read: a slow but steady login still gets its answer', async () => {
    const body = JSON.stringify({ email: 'nobody@example.com', password: 'wrong-password' });
    const upload = rawUpload(t.baseUrl, {
      path: '/v1/auth/login',
      headers: { 'Content-Type': 'application/json' },
      contentLength: Buffer.byteLength(body),
      initial: body.slice(0, 10),
    });
    await new Promise((r) => setTimeout(r, REQUEST_TIMEOUT_MS / 3));
    upload.write(body.slice(10));
    const answer = await upload.answer;
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('INVALID_CREDENTIALS');
    upload.destroy();
  });
});

/** A CSV of `n` leads, about 94 bytes a row (50,000 rows: 4.5 MiB). */
function leadsCsv(n: number, tag: string): string {
  const lines = ['firstName,lastName,email,phone,leadType,source,notes'];
  for (let i = 0; i < n; i++)
    lines.push(
      `First${i},${tag}${i},${tag.toLowerCase()}${i}@example.com,+1 415 555 ${String(i % 10000).padStart(4, '0')},buyer,${tag},"note ${i}, with comma"`,
    );
  return lines.join('\n');
}

const csvPost = (http: HttpClient, token: string, csv: string, path = '/v1/leads/import') =>
  http.request('POST', path, { token, rawBody: csv, headers: { 'content-type': 'text/csv' } });

/** The team's import lock (the two-key advisory lock whose first key is 'CRMI') is held by a transaction. */
async function importLockHeld(dataSource: DataSource): Promise<boolean> {
  const [row] = await dataSource.query(
    `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND granted`,
    [TEAM_IMPORT_LOCK_NAMESPACE],
  );
  return Number(row.n) > 0;
}

/**
 * The API in a process of its own (src/main.ts, as deployed; on a test database), so what is measured is that
 * process alone: its resident memory (VmRSS in /proc/<pid>/status) and its event loop.
 */
describe('the API process under hostile uploads and a maximal import', () => {
  let database: TestDatabase;
  let api: SpawnedApp;
  let http: HttpClient;
  let admin: SignedIn;

  beforeAll(async () => {
    database = await createTestDatabase();
    api = await spawnApp({ DATABASE_URL: database.url, RATE_LIMIT_HEALTH_MAX: '10000000' });
    http = new HttpClient(api.baseUrl);
    admin = await registerTeam({ http } as TestApp, { teamName: 'Spawned' });
  }, 180_000);
  afterAll(async () => {
    if (api) {
      api.child.kill('SIGTERM');
      await api.exited;
    }
    await database?.drop();
  });

  it('24 anonymous 19 MiB uploads at once: each 401 at once, and the process grows by less than 100 MB', async () => {
    // Warm up the paths involved (first requests load code and fill caches), then take the baseline.
    for (let i = 0; i < 3; i++) {
      const warm = rawUpload(api.baseUrl, {
        path: '/v1/clients/import',
        headers: { 'Content-Type': 'text/csv' },
        contentLength: NINETEEN_MIB,
        initial: 'firstName\n',
      });
      expect((await warm.answer).status).toBe(401);
      await warm.closed;
    }
    const before = api.rssMb();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, api.rssMb())), 20);
    try {
      // Each client pushes its whole 19 MiB as fast as the server takes it: 456 MiB in all if it were read.
      const uploads = Array.from({ length: 24 }, () =>
        rawUpload(api.baseUrl, {
          path: '/v1/clients/import',
          headers: { 'Content-Type': 'text/csv' },
          contentLength: NINETEEN_MIB,
          pump: true,
        }),
      );
      const answers = await Promise.all(uploads.map((u) => u.answer));
      expect(answers.map((a) => a.status)).toEqual(Array(24).fill(401));
      await Promise.all(uploads.map((u) => u.closed));
      const sent = uploads.reduce((sum, u) => sum + u.sentBytes(), 0);
      peak = Math.max(peak, api.rssMb());
      console.log(
        `24 anonymous 19 MiB uploads: API RSS ${before.toFixed(1)} MB before, peak ${peak.toFixed(1)} MB ` +
          `(+${(peak - before).toFixed(1)} MB); slowest answer ${Math.max(...answers.map((a) => a.atMs))} ms; ` +
          `${(sent / 2 ** 20).toFixed(1)} MiB handed to the kernel by the clients before the connections closed`,
      );
      expect(peak - before).toBeLessThan(100);
    } finally {
      clearInterval(sampler);
    }
  }, 120_000);

  it('while a 50,000-row import runs, /health answers every 50 ms poll within 500 ms; a second import of the team is 429', async () => {
    const csv = leadsCsv(50_000, 'Poll');
    const dataSource = await databaseSource(database.url);
    try {
      // Polled from a bare process of its own, so what is timed is the API, not this test's own pauses.
      const poller = await startPoller(`${api.baseUrl}/health`, 50);
      let finished = false;
      const running = csvPost(http, admin.accessToken, csv).finally(() => (finished = true));
      // Once the import is under way (it holds its team's lock), the same team again.
      while (!finished && !(await importLockHeld(dataSource))) await new Promise((r) => setTimeout(r, 20));
      const second = await csvPost(http, admin.accessToken, 'firstName,lastName\nSecond,Import\n');
      const first = await running;
      const polls = await poller.stop();

      expect(first.status).toBe(200);
      expect(first.body.data).toEqual({ created: 50_000, updated: 0, dryRun: false });
      const latencies = polls.map((p) => p.ms).sort((a, b) => a - b);
      console.log(
        `/health during a 50,000-row import (${(Buffer.byteLength(csv) / 2 ** 20).toFixed(1)} MiB): ` +
          `${polls.length} polls, median ${latencies[Math.floor(latencies.length / 2)]} ms, ` +
          `p99 ${latencies[Math.floor(latencies.length * 0.99)]} ms, slowest ${latencies[latencies.length - 1]} ms`,
      );
      expect(polls.length).toBeGreaterThan(10);
      expect(polls.filter((p) => p.status !== 200)).toEqual([]);
      expect(latencies[latencies.length - 1]).toBeLessThan(500);

      expect(second.status).toBe(429);
      expect(second.body.error.code).toBe('RATE_LIMIT');
      expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0);
      const [{ n }] = await dataSource.query(`SELECT count(*)::int AS n FROM leads WHERE last_name = 'Import'`);
      expect(n).toBe(0);
      // Once it is done, the team imports again.
      expect((await csvPost(http, admin.accessToken, 'firstName,lastName\nAfter,Done\n')).status).toBe(200);
    } finally {
      await dataSource.destroy();
    }
  }, 600_000);
});

/** One import per team at a time across instances: the second instance finds the team's lock in Postgres. */
describe('one import per team, across instances', () => {
  let t: TestApp;
  let other: TestApp;
  let admin: SignedIn;

  beforeAll(async () => {
    t = await startTestApp();
    other = await startTestApp({ database: t.database });
    admin = await registerTeam(t, { teamName: 'Bulk' });
  });
  afterAll(async () => {
    await other?.close();
    await t?.close();
  });

  it('while an import of the team runs on one instance, one on another instance is 429; other teams import', async () => {
    const otherTeam = await registerTeam(t, { teamName: 'Parallel' });
    let finished = false;
    const running = csvPost(t.http, admin.accessToken, leadsCsv(10_000, 'Mine')).finally(() => (finished = true));
    while (!finished && !(await importLockHeld(t.dataSource))) await new Promise((r) => setTimeout(r, 20));
    expect(finished).toBe(false);
    const elsewhere = await csvPost(other.http, admin.accessToken, 'firstName,lastName\nOther,Instance\n');
    const theirs = await csvPost(other.http, otherTeam.accessToken, 'firstName,lastName\nTheir,Own\n');
    const first = await running;
    expect(first.status).toBe(200);
    expect(elsewhere.status).toBe(429);
    expect(elsewhere.body.error.code).toBe('RATE_LIMIT');
    expect(Number(elsewhere.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(theirs.status).toBe(200);
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM leads WHERE last_name = 'Instance'`);
    expect(n).toBe(0);
    expect((await csvPost(other.http, admin.accessToken, 'firstName,lastName\nOther,Later\n')).status).toBe(200);
  }, 300_000);
});
