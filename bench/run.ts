import { freePort } from '../src/common/net/free-port';
/*
 * npm run bench [-- --duration 5 --rounds 3 --connections 16 --big --profile --only <regex>]
 *
 * One run, one machine: a fresh embedded PostgreSQL, 100k clients over 10 teams, the API (production mode,
 * its own process) and the floor (bare node:http + pg, its own process), loaded in turn by autocannon from
 * this process (--profile also writes a CPU profile of the API). Prints req/s and p50/p99 for each scenario and its ratio to the floor measured in the same
 * run; with --big, also list p50 for a team of 10k rows vs a team of 1M rows. Writes bench/results/*.json.
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
import { seedClients } from './seed';

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

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

interface SignedIn {
  accessToken: string;
}

interface Measured {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

interface Scenario {
  name: string;
  opts: autocannon.Options;
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const at = (i: number) => sorted[i] ?? NaN;
  return sorted.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
};

/** Every scenario once per round, in turn; per scenario the median req/s, p50 and p99 over the rounds. */
async function measureRounds(scenarios: Scenario[]): Promise<Measured[]> {
  const chosen = scenarios.filter((s) => !ONLY || ONLY.test(s.name));
  const rounds = new Map<string, Measured[]>(chosen.map((s) => [s.name, []]));
  // One unrecorded round first: the server's caches, the JIT and both pools warm up on every path.
  process.stdout.write('warm-up round\n');
  for (const s of chosen) await autocannon({ ...s.opts, duration: 3, connections: CONNECTIONS });
  for (let round = 1; round <= ROUNDS; round++) {
    process.stdout.write(`round ${round}/${ROUNDS}\n`);
    for (const s of chosen) rounds.get(s.name)?.push(await load(s.name, s.opts));
  }
  return chosen.map(({ name }) => {
    const ms = rounds.get(name) ?? [];
    return {
      name,
      rps: Math.round(median(ms.map((m) => m.rps))),
      p50: median(ms.map((m) => m.p50)),
      p99: median(ms.map((m) => m.p99)),
      errors: ms.reduce((n, m) => n + m.errors, 0),
      non2xx: ms.reduce((n, m) => n + m.non2xx, 0),
    };
  });
}

async function load(name: string, opts: autocannon.Options): Promise<Measured> {
  // A second of warm-up so the connections are open before the measured window.
  await autocannon({ ...opts, duration: 1, connections: CONNECTIONS });
  const r = await autocannon({ ...opts, duration: DURATION, connections: CONNECTIONS });
  const m = {
    name,
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
  };
  process.stdout.write(
    `  ${name.padEnd(34)} ${String(m.rps).padStart(7)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms${m.non2xx ? `  (${m.non2xx} non-2xx!)` : ''}\n`,
  );
  return m;
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

async function main(): Promise<void> {
  const started = Date.now();
  const dataDir = join(ROOT, '.data', 'bench');
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  process.stdout.write(
    `Hearth CRM benchmark — ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}\n`,
  );

  const db = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'bench', ephemeral: false });
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
      DATABASE_URL: db.url,
      DB_SSL_MODE: 'disable',
      DATA_DIR: dataDir,
      JWT_SECRET,
      DATA_ENCRYPTION_KEY: KEY,
      COOKIE_SECURE: 'true',
      LOG_LEVEL: 'error',
      RATE_LIMIT_GLOBAL_MAX: '100000000',
      RATE_LIMIT_LOGIN_MAX: '100000000',
      RATE_LIMIT_REGISTER_MAX: '100000000',
      ENABLE_EMAIL_LOGIN_NOTIFICATIONS: 'false',
      REAUTH_WINDOW_MINUTES: '60',
    };
    // --profile: a V8 CPU profile of the API process, written to bench/results/ when it exits.
    const profileArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench', 'results')}`] : [];
    const app = await startProcess(join(DIST, 'src', 'main.js'), appEnv, /listening on/, profileArgs);
    children.push(app);
    const api = `http://127.0.0.1:${appPort}`;

    // 100k clients over 10 teams straight into the tables (each team with an admin), then sign in as one.
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    const query = async (sql: string, params?: unknown[]) =>
      (await pg.query(sql, params)).rows as Record<string, unknown>[];
    const seeded = await seedClients(query, { teams: 10, clients: 100_000, password: PASSWORD });
    process.stdout.write(
      `seeded ${seeded.clients} clients over ${seeded.teamIds.length} teams in ${(seeded.elapsedMs / 1000).toFixed(1)} s\n`,
    );
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

    const floorPort = await freePort();
    const floor = await startProcess(
      join(DIST, 'bench', 'floor-server.js'),
      { DATABASE_URL: db.url, PORT: String(floorPort), TEAM_ID: teamId },
      /floor listening/,
    );
    children.push(floor);
    const floorUrl = `http://127.0.0.1:${floorPort}`;
    const newClient = JSON.stringify({ firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' });

    process.stdout.write(
      `\nload: ${CONNECTIONS} connections, ${DURATION} s per scenario and round, ${ROUNDS} rounds (medians reported)\n`,
    );
    const jsonBody = { 'content-type': 'application/json' };
    const results = await measureRounds([
      { name: 'floor: list 50', opts: { url: `${floorUrl}/clients?limit=50` } },
      { name: 'api: list 50 (JWT)', opts: { url: `${api}/v1/clients?limit=50`, headers: bearer } },
      { name: 'api: list 50 (API key)', opts: { url: `${api}/v1/clients?limit=50`, headers: { 'x-api-key': apiKey } } },
      { name: 'api: search q=smith (JWT)', opts: { url: `${api}/v1/clients?limit=50&q=smith`, headers: bearer } },
      {
        name: 'floor: insert',
        opts: { url: `${floorUrl}/clients`, method: 'POST', body: newClient, headers: jsonBody },
      },
      {
        name: 'api: insert, audited (JWT)',
        opts: { url: `${api}/v1/clients`, method: 'POST', body: newClient, headers: { ...bearer, ...jsonBody } },
      },
      // Login is argon2-bound by design (about 30 ms of CPU per attempt); another team's admin, without 2FA.
      {
        name: 'api: login (argon2id)',
        opts: {
          url: `${api}/v1/auth/login`,
          method: 'POST',
          body: JSON.stringify({ email: seeded.emails[1], password: PASSWORD }),
          headers: jsonBody,
        },
      },
    ]);

    let big: { p50At10k: number; p50At1M: number; ratio: number } | undefined;
    if (BIG) {
      const bigSeed = await seedClients(query, { teams: 1, clients: 1_000_000, password: PASSWORD });
      process.stdout.write(`seeded 1M clients in one team in ${(bigSeed.elapsedMs / 1000).toFixed(1)} s\n`);
      const bigLogin = await json<SignedIn>(`${api}/v1/auth/login`, {
        method: 'POST',
        body: { email: bigSeed.emails[0], password: PASSWORD },
      });
      await settle();
      const bigResults = await measureRounds([
        { name: 'api: list 50, team of 10k', opts: { url: `${api}/v1/clients?limit=50`, headers: bearer } },
        {
          name: 'api: list 50, team of 1M',
          opts: { url: `${api}/v1/clients?limit=50`, headers: { authorization: `Bearer ${bigLogin.accessToken}` } },
        },
      ]);
      const small = bigResults.find((r) => r.name.endsWith('10k'));
      const large = bigResults.find((r) => r.name.endsWith('1M'));
      if (small && large)
        big = {
          p50At10k: small.p50,
          p50At1M: large.p50,
          ratio: Math.round((large.p50 / Math.max(small.p50, 0.01)) * 100) / 100,
        };
    }

    const ratios: Record<string, { value: number; target: string }> = {};
    const addRatio = (label: string, a: string, b: string, target: string) => {
      const x = results.find((r) => r.name === a);
      const y = results.find((r) => r.name === b);
      if (x && y) ratios[label] = { value: Math.round((x.rps / y.rps) * 100) / 100, target };
    };
    addRatio('list (JWT) / floor list', 'api: list 50 (JWT)', 'floor: list 50', '≥ 0.7');
    addRatio('list (API key) / list (JWT)', 'api: list 50 (API key)', 'api: list 50 (JWT)', '≥ 0.9');
    addRatio('audited insert / floor insert', 'api: insert, audited (JWT)', 'floor: insert', '≥ 0.7');
    addRatio('search / list (JWT)', 'api: search q=smith (JWT)', 'api: list 50 (JWT)', 'informational');
    if (big) ratios['p50 at 1M / p50 at 10k'] = { value: big.ratio, target: '≤ 1.5' };
    const rssMb = peakRssMb(app.pid!);
    await pg.end();

    process.stdout.write('\n| scenario | req/s | p50 ms | p99 ms |\n|---|---:|---:|---:|\n');
    for (const r of results) process.stdout.write(`| ${r.name} | ${r.rps} | ${r.p50} | ${r.p99} |\n`);
    process.stdout.write('\n| ratio | value | target |\n|---|---:|---|\n');
    for (const [name, r] of Object.entries(ratios)) process.stdout.write(`| ${name} | ${r.value} | ${r.target} |\n`);
    if (big) process.stdout.write(`\nlist p50: ${big.p50At10k} ms at 10k rows, ${big.p50At1M} ms at 1M rows\n`);
    process.stdout.write(`API peak RSS: ${rssMb} MB\n`);

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
      big,
      apiPeakRssMb: rssMb,
      totalSeconds: Math.round((Date.now() - started) / 1000),
    };
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'latest.json'), JSON.stringify(report, null, 2));
    writeFileSync(join(dir, `${report.at.replace(/[:.]/g, '-')}.json`), JSON.stringify(report, null, 2));
    process.stdout.write(`\nwritten bench/results/latest.json (${report.totalSeconds} s)\n`);
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
