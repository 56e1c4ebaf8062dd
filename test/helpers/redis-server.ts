import { freePort } from '../../src/common/net/free-port';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { type TestApp, startTestApp } from './test-app';

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

/** True when a real redis-server is on the PATH. In CI it must be (see .ci/run). */
export function redisAvailable(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

/** A throwaway redis-server on loopback, no persistence. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (/Ready to accept connections/i.test(out)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** describe() when redis-server exists; otherwise skipped with a reason, except in CI where it must run. */
export function describeWithRedis(name: string, fn: () => void): void {
  if (redisAvailable() || process.env.CI === 'true') {
    describe(name, fn);
  } else {
    describe.skip(`${name} (skipped: redis-server is not installed; apt-get install redis-server)`, fn);
  }
}

export interface InstancesOnRedis {
  redis: RedisServer;
  a: TestApp;
  b: TestApp;
  close(): Promise<void>;
}

/** Two app instances on one database sharing a throwaway redis-server (REDIS_URL), both with `env`. */
export async function startInstancesOnRedis(env: Record<string, string>): Promise<InstancesOnRedis> {
  const redis = await startRedis();
  const shared = { ...env, REDIS_URL: redis.url };
  const started: TestApp[] = [];
  const close = async () => {
    for (const app of started.reverse()) await app.close();
    await redis.stop();
  };
  try {
    started.push(await startTestApp({ env: shared }));
    started.push(await startTestApp({ env: shared, database: started[0]!.database }));
  } catch (err) {
    await close();
    throw err;
  }
  const [a, b] = started as [TestApp, TestApp];
  return { redis, a, b, close };
}
