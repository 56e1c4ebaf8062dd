import { freePort } from '../src/common/net/free-port';
/*
 * npm run bench [-- --duration 5 --rounds 3 --connections 16 --big --profile --metrics --only <regex>]
 *
 * One run, one machine: a fresh embedded PostgreSQL, 100k clients over 10 teams plus a team of 100k clients
 * for search, the API (production mode, its own process, IP anomaly detection on) and the floor (bare
 * node:http + pg, its own process), loaded in turn by autocannon from this process (--profile also writes a CPU
 * profile of the API). Suites (bench/harness.ts): the core paths against the floor; search (common surname,
 * rare name, no match) against the list page of the same 100k team, with 5,000 rows inserted between rounds;
 * then the optional suites of bench/suites.ts (my leads, timeline, CSV import) where the feature exists.
 * Prints req/s and p50/p99 per scenario, the ratios with their targets, per-round search figures, and the
 * API's resident memory by phase; with --big, also list p50 for a team of 10k rows vs a team of 1M rows; with
 * --metrics (or an --only that picks its scenarios), the list against a second API process that has METRICS_PORT
 * set and is scraped every 5 s, alternating rounds with the first (the cost of metrics).
 * Writes bench/results/*.json.
 */
import autocannon from 'autocannon';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { authenticator } from 'otplib';
import { Client } from 'pg';
import { loadConfig } from '../src/config/app-config';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { runMigrations } from '../src/database/migrate';
import { makeLocalPgTls } from './pg-tls';
import { type Measured, type RatioSpec, type Suite, measureSuite, ratiosOf } from './harness';
import { SURNAMES, seedClients } from './seed';
import { type BenchContext, OPTIONAL_SUITES } from './suites';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const DURATION = opt('duration', 5);
// Scenarios run round-robin, ROUNDS times: background noise on a shared machine then hits every scenario
// alike, and each figure is the median of its rounds.
const ROUNDS = opt('rounds', 3);
const CONNECTIONS = opt('connections', 16);
const BIG = argv.includes('--big');
const ROOT = join(__dirname, '..', '..');
const DIST = join(__dirname, '..');

const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const PASSWORD = 'Bench-Marmot-Quill-42!';

const PROFILE = argv.includes('--profile');
// --only <regex>: run just the matching scenarios (e.g. to profile one path); ratios whose inputs are missing are skipped.
const ONLY = argv.includes('--only') ? new RegExp(argv[argv.indexOf('--only') + 1] ?? '') : undefined;
// --no-optional: skip bench/suites.ts.
const OPTIONAL = !argv.includes('--no-optional');
const METRICS_ON = 'api: list 50 (JWT), metrics on (METRICS_PORT)';
const METRICS_OFF = 'api: list 50 (JWT), metrics off';
// --metrics: the cost of metrics (a second API with METRICS_PORT); also when --only names those scenarios.
// --metrics-aa: the same suite with METRICS_PORT left unset on the second process too: what two processes
// differ by without metrics (the noise floor of the comparison).
const METRICS_AA = argv.includes('--metrics-aa');
const METRICS =
  METRICS_AA || argv.includes('--metrics') || (ONLY !== undefined && (ONLY.test(METRICS_ON) || ONLY.test(METRICS_OFF)));

const log = (line: string) => void process.stdout.write(line);
const harness = { duration: DURATION, rounds: ROUNDS, connections: CONNECTIONS, only: ONLY, log };

function startProcess(
  script: string,
  env: Record<string, string>,
  ready: RegExp,
  nodeArgs: string[] = [],
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) resolve(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${script} exited (${code}): ${out.slice(-2000)}`)));
  });
}

/** Resident memory now (VmRSS) and its peak so far (VmHWM), in MB. */
function rssMb(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (field: string) => Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024);
  return { now: mb('VmRSS'), peak: mb('VmHWM') };
}

/** CPU time (user + system) a process has used, in ms (Linux: /proc/<pid>/stat, 100 ticks per second). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface SignedIn {
  accessToken: string;
}

async function json<T>(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<T> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const body = (await res.json()) as { success: boolean; data: T; error?: { code: string; message: string } };
  if (!res.ok)
    throw new Error(`${init.method ?? 'GET'} ${url} → ${res.status} ${body.error?.code}: ${body.error?.message}`);
  return body.data;
}

/** Public addresses on several continents: logins from them make the geo-anomaly check look them up. */
const LOGIN_IPS = ['8.8.8.8', '81.2.69.160', '1.1.1.1', '203.0.113.9', '5.255.255.5', '200.160.2.3', '41.203.0.1'];

async function main(): Promise<void> {
  const started = Date.now();
  const dataDir = join(ROOT, '.data', 'bench');
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  log(
    `Hearth CRM benchmark — ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}\n`,
  );

  // The API runs as in production: as the least-privilege role, over TLS verified against a local CA.
  const tls = makeLocalPgTls(join(dataDir, 'tls'));
  const db = await startEmbeddedPostgres({
    dataDir,
    port: await freePort(),
    database: 'bench',
    ephemeral: false,
    postgresFlags: tls.postgresFlags,
  });
  const children: ChildProcess[] = [];
  try {
    const config = loadConfig({
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
      DATABASE_URL: db.url,
      JWT_SECRET,
      DATA_ENCRYPTION_KEY: KEY,
    });
    await runMigrations(config, db.url);

    const appPort = await freePort();
    const appEnv = {
      NODE_ENV: 'production',
      PORT: String(appPort),
      HOST: '127.0.0.1',
      DATABASE_URL: db.apiUrl,
      DATABASE_MIGRATION_URL: db.url,
      DB_SSL_MODE: 'verify-full',
      DB_SSL_CA: tls.caFile,
      DATA_DIR: dataDir,
      JWT_SECRET,
      DATA_ENCRYPTION_KEY: KEY,
      COOKIE_SECURE: 'true',
      LOG_LEVEL: 'error',
      RATE_LIMIT_GLOBAL_MAX: '100000000',
      RATE_LIMIT_LOGIN_MAX: '100000000',
      RATE_LIMIT_REGISTER_MAX: '100000000',
      // The login scenario runs 16 correct logins of one account at once: the lockout's reservation (taken
      // before the password check) would refuse all but MAX_LOGIN_ATTEMPTS of them at a time instead of measuring argon2.
      MAX_LOGIN_ATTEMPTS: '100000',
      ENABLE_EMAIL_LOGIN_NOTIFICATIONS: 'false',
      REAUTH_WINDOW_MINUTES: '60',
      // The memory target holds with the geo lookup in use: logins below come from public addresses.
      ENABLE_IP_ANOMALY_DETECTION: 'true',
      TRUST_PROXY: 'loopback',
      // The heap bounds docker-compose.yml runs with (the live heap is ~55 MB; see README, Performance).
      NODE_OPTIONS: '--max-old-space-size=128 --max-semi-space-size=8',
      // BENCH_APP_ENV='{"NAME":"value"}' overrides any of these (e.g. NODE_OPTIONS='' to see V8 unbounded).
      ...(process.env.BENCH_APP_ENV ? (JSON.parse(process.env.BENCH_APP_ENV) as Record<string, string>) : {}),
    };
    // --profile: a V8 CPU profile of the API process, written to bench/results/ when it exits.
    const profileArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench', 'results')}`] : [];
    const app = await startProcess(join(DIST, 'src', 'main.js'), appEnv, /listening on/, profileArgs);
    children.push(app);
    const api = `http://127.0.0.1:${appPort}`;
    const memory: Record<string, { now: number; peak: number }> = { started: rssMb(app.pid!) };

    // 100k clients over 10 teams straight into the tables (each team with an admin), then sign in as one.
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    const query = async (sql: string, params?: unknown[]) =>
      (await pg.query(sql, params)).rows as Record<string, unknown>[];
    const seeded = await seedClients(query, { teams: 10, clients: 100_000, password: PASSWORD });
    log(
      `seeded ${seeded.clients} clients over ${seeded.teamIds.length} teams in ${(seeded.elapsedMs / 1000).toFixed(1)} s\n`,
    );
    // The search suite's team: 100k clients in one team (each surname on 1 % of them).
    const searchSeed = await seedClients(query, { teams: 1, clients: 100_000, password: PASSWORD });
    log(`seeded ${searchSeed.clients} clients in one team in ${(searchSeed.elapsedMs / 1000).toFixed(1)} s\n`);
    // Fresh bulk rows would otherwise be vacuumed, analysed and checkpointed by the server in the middle of
    // whichever scenario happens to run first.
    const settle = () => pg.query('VACUUM (ANALYZE) clients').then(() => pg.query('CHECKPOINT'));
    await settle();
    const email = seeded.emails[0];
    const [teamId = ''] = seeded.teamIds;
    const first = await json<SignedIn>(`${api}/v1/auth/login`, { method: 'POST', body: { email, password: PASSWORD } });

    // An API key: 2FA first (the contract requires it of key creators), then the key with a backup code as otp.
    const auth = { authorization: `Bearer ${first.accessToken}` };
    const setup = await json<{ secret: string }>(`${api}/v1/auth/2fa/setup`, {
      method: 'POST',
      headers: auth,
      body: {},
    });
    const enabled = await json<{ backupCodes: string[] }>(`${api}/v1/auth/2fa/enable`, {
      method: 'POST',
      headers: auth,
      body: { code: authenticator.generate(setup.secret) },
    });
    const relogin = await json<SignedIn>(`${api}/v1/auth/login`, {
      method: 'POST',
      body: { email, password: PASSWORD, otp: enabled.backupCodes[0] },
    });
    const bearer = { authorization: `Bearer ${relogin.accessToken}` };
    const created = await json<{ key: string }>(`${api}/v1/api-keys`, {
      method: 'POST',
      headers: bearer,
      body: {
        name: 'bench',
        scopes: ['clients:read', 'clients:write'],
        otp: enabled.backupCodes[1],
        expiresInDays: 30,
      },
    });
    const apiKey = created.key;
    const searchLogin = await json<SignedIn>(`${api}/v1/auth/login`, {
      method: 'POST',
      body: { email: searchSeed.emails[0], password: PASSWORD },
    });
    const searchBearer = { authorization: `Bearer ${searchLogin.accessToken}` };

    const floorPort = await freePort();
    const floor = await startProcess(
      join(DIST, 'bench', 'floor-server.js'),
      { DATABASE_URL: db.url, PORT: String(floorPort), TEAM_ID: teamId },
      /floor listening/,
    );
    children.push(floor);
    const floorUrl = `http://127.0.0.1:${floorPort}`;
    const newClient = JSON.stringify({ firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' });
    memory.seeded = rssMb(app.pid!);

    log(
      `\nload: ${CONNECTIONS} connections, ${DURATION} s per scenario and round, ${ROUNDS} rounds (medians reported)\n`,
    );
    const jsonBody = { 'content-type': 'application/json' };
    let loginIp = 0;
    const core: Suite = {
      title: 'core: 10 teams of 10k clients; API vs floor',
      scenarios: [
        { name: 'floor: list 50', opts: { url: `${floorUrl}/clients?limit=50` } },
        { name: 'api: list 50 (JWT)', opts: { url: `${api}/v1/clients?limit=50`, headers: bearer } },
        {
          name: 'api: list 50 (API key)',
          opts: { url: `${api}/v1/clients?limit=50`, headers: { 'x-api-key': apiKey } },
        },
        {
          name: 'floor: insert',
          opts: { url: `${floorUrl}/clients`, method: 'POST', body: newClient, headers: jsonBody },
        },
        {
          name: 'api: insert, audited (JWT)',
          opts: { url: `${api}/v1/clients`, method: 'POST', body: newClient, headers: { ...bearer, ...jsonBody } },
        },
        // Login is argon2-bound by design (about 30 ms of CPU per attempt); another team's admin, without 2FA,
        // from changing public addresses so that every login runs the geo-anomaly lookup.
        {
          name: 'api: login (argon2id)',
          opts: {
            url: `${api}/v1/auth/login`,
            method: 'POST',
            body: JSON.stringify({ email: seeded.emails[1], password: PASSWORD }),
            headers: jsonBody,
            requests: [
              {
                setupRequest: (req) => ({
                  ...req,
                  headers: { ...req.headers, 'x-forwarded-for': LOGIN_IPS[loginIp++ % LOGIN_IPS.length]! },
                }),
              },
            ],
          },
        },
      ],
      ratios: [
        { label: 'list (JWT) / floor list', a: 'api: list 50 (JWT)', b: 'floor: list 50', target: '≥ 0.7' },
        { label: 'list (API key) / list (JWT)', a: 'api: list 50 (API key)', b: 'api: list 50 (JWT)', target: '≥ 0.9' },
        {
          label: 'audited insert / floor insert',
          a: 'api: insert, audited (JWT)',
          b: 'floor: insert',
          target: '≥ 0.45',
        },
      ],
    };

    // Search: a common surname (1 % of the rows), one person's name, and a string that matches nothing, against
    // the plain list page of the same team; 5,000 rows are inserted between rounds (new rows must not slow it).
    const searchUrl = (q: string) => `${api}/v1/clients?limit=50&q=${encodeURIComponent(q)}`;
    let inserted = 0;
    const search: Suite = {
      title: 'search: one team of 100k clients; 5,000 rows inserted between rounds',
      scenarios: [
        { name: 'api: list 50 (search team)', opts: { url: `${api}/v1/clients?limit=50`, headers: searchBearer } },
        { name: 'api: search common (q=smith)', opts: { url: searchUrl('smith'), headers: searchBearer } },
        { name: 'api: search rare (q=hopper 9012)', opts: { url: searchUrl('hopper 9012'), headers: searchBearer } },
        { name: 'api: search no match (q=zqxjv)', opts: { url: searchUrl('zqxjv'), headers: searchBearer } },
        { name: 'api: search 2 chars (q=gr)', opts: { url: searchUrl('gr'), headers: searchBearer } },
      ],
      ratios: [
        {
          label: 'search common / list (same team)',
          a: 'api: search common (q=smith)',
          b: 'api: list 50 (search team)',
          target: '≥ 0.5',
        },
        {
          label: 'search rare / list (same team)',
          a: 'api: search rare (q=hopper 9012)',
          b: 'api: list 50 (search team)',
          target: '≥ 0.5',
        },
        {
          label: 'search no match / list (same team)',
          a: 'api: search no match (q=zqxjv)',
          b: 'api: list 50 (search team)',
          target: '≥ 0.5',
        },
        {
          label: 'search 2 chars (substring walk) / list (same team)',
          a: 'api: search 2 chars (q=gr)',
          b: 'api: list 50 (search team)',
          target: 'informational',
        },
      ],
      betweenRounds: async () => {
        await query(
          `INSERT INTO clients (team_id, first_name, last_name, email, created_at, updated_at)
           SELECT $1, 'New', ($2::text[])[1 + g % 100] || ' x' || g, 'new' || g || '@example.com', now(), now()
             FROM generate_series($3::int, $3::int + 4999) AS g`,
          [searchSeed.teamIds[0], SURNAMES, inserted],
        );
        inserted += 5000;
      },
    };

    const results: Measured[] = [];
    const ratioSpecs: RatioSpec[] = [];
    const skipped: Record<string, string> = {};
    const run = async (suite: Suite) => {
      results.push(...(await measureSuite(suite, harness)));
      ratioSpecs.push(...(suite.ratios ?? []));
    };
    await run(core);
    memory.core = rssMb(app.pid!);
    await run(search);
    memory.search = rssMb(app.pid!);

    if (METRICS) {
      // The same API in a second process with METRICS_PORT set (request histogram, process defaults, listener),
      // scraped every 5 s as Prometheus would; the list alternates between the two processes round by round.
      const port = await freePort();
      const metricsPort = await freePort();
      const withMetrics = await startProcess(
        join(DIST, 'src', 'main.js'),
        { ...appEnv, PORT: String(port), ...(METRICS_AA ? {} : { METRICS_PORT: String(metricsPort) }) },
        /listening on/,
      );
      children.push(withMetrics);
      let scrapes = 0;
      const scraper = setInterval(() => {
        void fetch(`http://127.0.0.1:${metricsPort}/metrics`)
          .then((r) => r.text())
          .then(() => scrapes++)
          .catch(() => undefined);
      }, 5_000);
      // Throughput on a busy shared machine swings more than the effect sought, so each round also reports
      // requests per CPU-second of the API process under load (the process's own cost per request).
      const perCpuSecond = (name: string, url: string, pid: number) => ({
        name: `${name}, requests per CPU-second`,
        once: async () => {
          const before = cpuMs(pid);
          const r = await autocannon({ url, headers: bearer, duration: DURATION, connections: CONNECTIONS });
          const used = cpuMs(pid) - before;
          log(`    ${name}: ${Math.round(r.requests.average)} req/s, ${r.requests.total} requests, ${used} ms CPU\n`);
          return { units: r.requests.total, ms: used };
        },
      });
      const offCpu = perCpuSecond(METRICS_OFF, `${api}/v1/clients?limit=50`, app.pid!);
      const onCpu = perCpuSecond(METRICS_ON, `http://127.0.0.1:${port}/v1/clients?limit=50`, withMetrics.pid!);
      try {
        await run({
          title: 'metrics: list 50 (JWT) against the API without and with METRICS_PORT, alternating',
          scenarios: [
            { name: METRICS_OFF, opts: { url: `${api}/v1/clients?limit=50`, headers: bearer } },
            { name: METRICS_ON, opts: { url: `http://127.0.0.1:${port}/v1/clients?limit=50`, headers: bearer } },
            offCpu,
            onCpu,
          ],
          ratios: [
            { label: 'list with metrics / without (req/s)', a: METRICS_ON, b: METRICS_OFF, target: '≥ 0.97' },
            {
              label: 'list with metrics / without (requests per CPU-second)',
              a: onCpu.name,
              b: offCpu.name,
              target: '≥ 0.97',
            },
          ],
        });
      } finally {
        clearInterval(scraper);
      }
      log(`metrics scraped ${scrapes} times during the suite${METRICS_AA ? ' (A/A run: none expected)' : ''}\n`);
      memory.metrics = rssMb(app.pid!);
    }

    if (OPTIONAL) {
      const ctx: BenchContext = {
        api,
        query,
        password: PASSWORD,
        log,
        login: async (who) =>
          (await json<SignedIn>(`${api}/v1/auth/login`, { method: 'POST', body: { email: who, password: PASSWORD } }))
            .accessToken,
        call: async (path, init = {}) => {
          const res = await fetch(`${api}${path}`, {
            method: init.method ?? 'GET',
            headers: init.headers,
            body: init.body,
          });
          const text = await res.text();
          let body: { data?: unknown; error?: { code: string } } = {};
          try {
            body = JSON.parse(text) as typeof body;
          } catch {
            /* not JSON */
          }
          return { status: res.status, body };
        },
      };
      for (const optional of OPTIONAL_SUITES) {
        const prepared = await optional.prepare(ctx).catch((err: Error) => `setup failed: ${err.message}`);
        if (typeof prepared === 'string') {
          skipped[optional.name] = prepared;
          log(`\n${optional.name}: skipped (${prepared})\n`);
          continue;
        }
        await run(prepared);
        memory[optional.name] = rssMb(app.pid!);
      }
    }

    let big: { p50At10k: number; p50At1M: number; ratio: number } | undefined;
    if (BIG) {
      const bigSeed = await seedClients(query, { teams: 1, clients: 1_000_000, password: PASSWORD });
      log(`seeded 1M clients in one team in ${(bigSeed.elapsedMs / 1000).toFixed(1)} s\n`);
      const bigLogin = await json<SignedIn>(`${api}/v1/auth/login`, {
        method: 'POST',
        body: { email: bigSeed.emails[0], password: PASSWORD },
      });
      await settle();
      const bigBearer = { authorization: `Bearer ${bigLogin.accessToken}` };
      const bigResults = await measureSuite(
        {
          title: 'big: list and search at 10k vs 1M rows',
          scenarios: [
            { name: 'api: list 50, team of 10k', opts: { url: `${api}/v1/clients?limit=50`, headers: bearer } },
            { name: 'api: list 50, team of 1M', opts: { url: `${api}/v1/clients?limit=50`, headers: bigBearer } },
            { name: 'api: search common, team of 1M', opts: { url: searchUrl('smith'), headers: bigBearer } },
            { name: 'api: search rare, team of 1M', opts: { url: searchUrl('hopper 9012'), headers: bigBearer } },
            { name: 'api: search no match, team of 1M', opts: { url: searchUrl('zqxjv'), headers: bigBearer } },
          ],
        },
        harness,
      );
      results.push(...bigResults);
      const small = bigResults.find((r) => r.name.endsWith('10k'));
      const large = bigResults.find((r) => r.name === 'api: list 50, team of 1M');
      if (small && large)
        big = {
          p50At10k: small.p50,
          p50At1M: large.p50,
          ratio: Math.round((large.p50 / Math.max(small.p50, 0.01)) * 100) / 100,
        };
      memory.big = rssMb(app.pid!);
    }

    const ratios: Record<string, { value: number; target: string }> = ratiosOf(results, ratioSpecs);
    if (big) ratios['p50 at 1M / p50 at 10k'] = { value: big.ratio, target: '≤ 1.5' };
    // No decline within the run: each search scenario's last round against its first (rows were added between).
    const trend: Record<string, number[]> = {};
    for (const r of results) if (/search/.test(r.name) && r.perRound.length > 1) trend[r.name] = r.perRound;
    const peakRss = rssMb(app.pid!).peak;
    await pg.end();

    log('\n| scenario | req/s | p50 ms | p99 ms |\n|---|---:|---:|---:|\n');
    for (const r of results) log(`| ${r.name} | ${r.rps} | ${r.p50} | ${r.p99} |\n`);
    log('\n| ratio | value | target |\n|---|---:|---|\n');
    for (const [name, r] of Object.entries(ratios)) log(`| ${name} | ${r.value} | ${r.target} |\n`);
    if (Object.keys(trend).length) {
      log('\nsearch req/s per round (5,000 rows inserted between rounds):\n');
      for (const [name, rounds] of Object.entries(trend)) log(`  ${name.padEnd(44)} ${rounds.join(' → ')}\n`);
    }
    for (const [name, why] of Object.entries(skipped)) log(`skipped ${name}: ${why}\n`);
    if (big) log(`\nlist p50: ${big.p50At10k} ms at 10k rows, ${big.p50At1M} ms at 1M rows\n`);
    log('\nAPI resident memory (MB) by phase, now / peak so far:\n');
    for (const [phase, m] of Object.entries(memory)) log(`  ${phase.padEnd(34)} ${m.now} / ${m.peak}\n`);
    log(`API peak RSS: ${peakRss} MB (target ≤ 250 MB)\n`);

    const report = {
      at: new Date().toISOString(),
      machine: {
        cores: cpus().length,
        cpu: cpus()[0]?.model,
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
      },
      settings: { durationSeconds: DURATION, rounds: ROUNDS, connections: CONNECTIONS, big: BIG },
      results,
      ratios,
      searchPerRound: trend,
      skipped,
      big,
      memoryByPhaseMb: memory,
      apiPeakRssMb: peakRss,
      totalSeconds: Math.round((Date.now() - started) / 1000),
    };
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'latest.json'), JSON.stringify(report, null, 2));
    writeFileSync(join(dir, `${report.at.replace(/[:.]/g, '-')}.json`), JSON.stringify(report, null, 2));
    log(`\nwritten bench/results/latest.json (${report.totalSeconds} s)\n`);
  } finally {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null) return resolve();
            const timer = setTimeout(resolve, 10_000);
            c.once('exit', () => (clearTimeout(timer), resolve()));
            c.kill('SIGTERM');
          }),
      ),
    );
    await db.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
