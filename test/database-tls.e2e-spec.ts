import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../src/common/net/free-port';
import { loadConfig } from '../src/config/app-config';
import { databaseSsl } from '../src/database/data-source-options';
import { makeLocalPgTls } from '../bench/pg-tls';
import { TEST_DATA_DIR } from './setup/paths';
import { TEST_ENCRYPTION_KEY, TEST_JWT_SECRET } from './helpers/test-app';

/**
 * DB_SSL_MODE=verify-full against a PostgreSQL with ssl=on and a certificate from a CA generated here: without
 * DB_SSL_CA the chain is not trusted, with it the connection is made, and a host the certificate does not
 * name is refused even with the CA. `require` (encrypt, verify nothing) connects to anything. Then the real
 * process in production: verify-full is its default, and a superuser DATABASE_URL makes it refuse to start.
 */
describe('database TLS: verify-full', () => {
  const dir = join(TEST_DATA_DIR, `tls-${randomBytes(3).toString('hex')}`);
  let ca = '';
  let pg: ChildProcess;
  let out = '';
  let ownerUrl = '';
  let apiUrl = '';

  beforeAll(async () => {
    const tls = makeLocalPgTls(dir, ['localhost', '127.0.0.1']);
    ca = tls.caFile;
    const port = await freePort();
    pg = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        join(__dirname, 'reliability', 'embedded-pg-process.ts'),
        join(dir, 'db'),
        String(port),
      ],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
        env: {
          ...process.env,
          EMBEDDED_PG_FLAGS: JSON.stringify([
            ...tls.postgresFlags,
            // A second loopback address the certificate does not name.
            '-c',
            'listen_addresses=127.0.0.1,127.0.0.2',
          ]),
        },
      },
    );
    pg.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const deadline = Date.now() + 60_000;
    while (!/ready (\S+) (\S+)/.test(out)) {
      if (Date.now() > deadline || pg.exitCode !== null) throw new Error(`TLS database did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    [, ownerUrl = '', apiUrl = ''] = /ready (\S+) (\S+)/.exec(out)!;
  }, 90_000);

  afterAll(async () => {
    if (pg && pg.exitCode === null) {
      pg.stdin!.write('exit\n');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          pg.kill('SIGKILL');
          resolve();
        }, 20_000);
        pg.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  });

  const tlsOf = (env: Record<string, string>) =>
    databaseSsl(loadConfig({ NODE_ENV: 'test', DATA_DIR: join(dir, 'app'), ...env }));

  /** Connects with the app's TLS options for `env`; whether the session is encrypted, or the error. */
  const connect = async (url: string, env: Record<string, string>): Promise<{ ssl?: boolean; error?: string }> => {
    const client = new Client({ connectionString: url, ssl: tlsOf(env) });
    try {
      await client.connect();
      const { rows } = await client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      return { ssl: rows[0]!.ssl };
    } catch (err) {
      return { error: (err as Error).message };
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  it('verify-full without DB_SSL_CA refuses the self-signed chain', async () => {
    const result = await connect(ownerUrl, { DB_SSL_MODE: 'verify-full' });
    expect(result.error).toMatch(/self[- ]signed certificate|unable to (get local issuer|verify)/);
  });

  it('verify-full with DB_SSL_CA connects, encrypted', async () => {
    expect(await connect(ownerUrl, { DB_SSL_MODE: 'verify-full', DB_SSL_CA: ca })).toEqual({ ssl: true });
    // Same by the certificate's DNS name.
    expect(
      await connect(ownerUrl.replace('@127.0.0.1:', '@localhost:'), { DB_SSL_MODE: 'verify-full', DB_SSL_CA: ca }),
    ).toEqual({
      ssl: true,
    });
  });

  it('verify-full with DB_SSL_CA still refuses a host the certificate does not name', async () => {
    const result = await connect(ownerUrl.replace('@127.0.0.1:', '@127.0.0.2:'), {
      DB_SSL_MODE: 'verify-full',
      DB_SSL_CA: ca,
    });
    expect(result.error).toMatch(/127\.0\.0\.2.*(not in the cert|does not match)|Hostname\/IP does not match/);
  });

  it('require encrypts but verifies nothing: it connects to the unnamed host without a CA (why production uses verify-full)', async () => {
    expect(await connect(ownerUrl.replace('@127.0.0.1:', '@127.0.0.2:'), { DB_SSL_MODE: 'require' })).toEqual({
      ssl: true,
    });
  });

  /** The real entry point in production against this server; its output and exit code (or null while running). */
  const runProduction = async (
    env: Record<string, string>,
    until: RegExp,
  ): Promise<{ out: string; code: number | null }> => {
    const appDir = join(dir, `app-${randomBytes(3).toString('hex')}`);
    mkdirSync(appDir, { recursive: true });
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'src', 'main.ts')],
      {
        env: {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'production',
          HOST: '127.0.0.1',
          PORT: String(await freePort()),
          DATA_DIR: appDir,
          JWT_SECRET: TEST_JWT_SECRET,
          DATA_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
          LOG_LEVEL: 'warn',
          DB_SSL_CA: ca,
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr.on('data', (c: Buffer) => (text += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!until.test(text) && child.exitCode === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    // A refusal is printed just before the exit: wait for it. A server that listens is stopped.
    if (child.exitCode === null && !/listening on/.test(text))
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
      return { out: text, code: null };
    }
    return { out: text, code: await exited };
  };

  it('production (verify-full by default) refuses a superuser DATABASE_URL, naming it', async () => {
    const { out: text, code } = await runProduction({ DATABASE_URL: ownerUrl }, /Refusing to start|listening on/);
    expect(code).toBe(1);
    expect(text).toMatch(/Refusing to start: DATABASE_URL: the role "postgres" is a superuser/);
  }, 90_000);

  it('production starts with the API role in DATABASE_URL and the owner in DATABASE_MIGRATION_URL', async () => {
    const { out: text, code } = await runProduction(
      { DATABASE_URL: apiUrl, DATABASE_MIGRATION_URL: ownerUrl },
      /listening on|Refusing to start|Failed to start/,
    );
    expect(text).toMatch(/listening on/);
    expect(code).toBeNull();
  }, 90_000);

  it('production refuses DB_SSL_MODE=disable, naming it', async () => {
    const { out: text, code } = await runProduction(
      { DATABASE_URL: apiUrl, DB_SSL_MODE: 'disable', DB_SSL_CA: '' },
      /Refusing to start|listening on/,
    );
    expect(code).toBe(1);
    expect(text).toMatch(/Refusing to start: DB_SSL_MODE: must not be disable in production/);
  }, 90_000);
});
