import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient } from '../helpers/http';
import { STRONG_PASSWORD } from '../helpers/auth';
import { type SpawnedApp, spawnApp } from './spawn-app';

/**
 * SIGTERM: the server stops accepting, finishes the requests in flight, closes the pool and stops the
 * embedded PostgreSQL, then exits 0.
 */
describe('graceful shutdown', () => {
  let app: SpawnedApp;

  beforeAll(async () => {
    app = await spawnApp({ MAX_LOGIN_ATTEMPTS: '100000' });
  }, 90_000);
  afterAll(() => {
    if (app.child.exitCode === null) app.child.kill('SIGKILL');
  });

  it('finishes in-flight requests, then exits 0 with the embedded database stopped', async () => {
    const http = new HttpClient(app.baseUrl);
    const email = `drain-${Date.now()}@example.com`;
    const reg = await http.post('/v1/auth/register', {
      email,
      password: STRONG_PASSWORD,
      firstName: 'D',
      lastName: 'R',
      teamName: 'Drain',
    });
    expect(reg.status).toBe(201);
    expect(existsSync(join(app.dataDir, 'pg', 'postmaster.pid'))).toBe(true);

    // Each login costs an argon2 verification (~30 ms of CPU): 40 of them keep the server busy for a while.
    const inFlight = Array.from({ length: 40 }, () =>
      http.post('/v1/auth/login', { email, password: 'Wrong-Password-123!' }).then(
        (r) => r.status,
        (err: Error) => `transport error: ${err.message} ${(err as { cause?: Error }).cause?.message ?? ''}`,
      ),
    );
    await new Promise((r) => setTimeout(r, 100));
    app.child.kill('SIGTERM');
    const statuses = await Promise.all(inFlight);
    // Every request is answered (401: wrong password): none is cut off by the shutdown.
    expect(statuses.filter((s) => s !== 401)).toEqual([]);

    const code = await Promise.race([app.exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]);
    expect(code).toBe(0);
    expect(app.output()).toMatch(/SIGTERM received: draining/);
    expect(existsSync(join(app.dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    await expect(fetch(`${app.baseUrl}/health`)).rejects.toThrow();
  }, 60_000);
});
