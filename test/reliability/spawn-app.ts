import { freePort } from '../../src/common/net/free-port';

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TEST_DATA_DIR } from '../setup/paths';
import { TEST_ENCRYPTION_KEY, TEST_JWT_SECRET } from '../helpers/test-app';

export interface SpawnedApp {
  child: ChildProcess;
  baseUrl: string;
  dataDir: string;
  output: () => string;
  exited: Promise<number | null>;
  rssMb(): number;
  /** Heap in use after a full garbage collection, in MB (asks the app over IPC). */
  heapAfterGcMb(): Promise<number>;
}

/** The real entry point (src/main.ts) in its own process, with its own embedded PostgreSQL. */
export async function spawnApp(env: Record<string, string> = {}): Promise<SpawnedApp> {
  const dataDir = join(TEST_DATA_DIR, `proc-${randomBytes(4).toString('hex')}`);
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--expose-gc', '-r', 'ts-node/register/transpile-only', join(__dirname, '..', '..', 'src', 'main.ts')],
    {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: dataDir,
        EMBEDDED_PG_PORT: String(await freePort()),
        JWT_SECRET: TEST_JWT_SECRET,
        DATA_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
        LOG_LEVEL: 'warn',
        RATE_LIMIT_GLOBAL_MAX: '10000000',
        RATE_LIMIT_LOGIN_MAX: '10000000',
        RATE_LIMIT_REGISTER_MAX: '10000000',
        ENABLE_EMAIL_LOGIN_NOTIFICATIONS: 'false',
        HEARTH_MEMORY_PROBE: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!/listening on/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`app did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    baseUrl: `http://127.0.0.1:${port}`,
    dataDir,
    output: () => out,
    exited,
    rssMb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024,
    heapAfterGcMb: () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no memory answer')), 10_000);
        child.once('message', (m: { heapUsed: number }) => {
          clearTimeout(timer);
          resolve(m.heapUsed / 2 ** 20);
        });
        child.send('memory');
      }),
  };
}
