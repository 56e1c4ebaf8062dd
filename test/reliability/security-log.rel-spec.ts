import { HttpClient } from '../helpers/http';
import { type SpawnedApp, spawnApp } from './spawn-app';

/** Every security event is also one JSON line on stdout, those that belong to no team included. */
describe('security events in the operator log', () => {
  let app: SpawnedApp;

  beforeAll(async () => {
    app = await spawnApp({ LOG_LEVEL: 'info' });
  }, 90_000);
  afterAll(() => {
    if (app.child.exitCode === null) app.child.kill('SIGKILL');
  });

  const eventLines = () =>
    app
      .output()
      .split('\n')
      .filter((l) => l.includes('"securityEvent"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  async function waitForLine(match: (line: Record<string, unknown>) => boolean) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = eventLines().find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no such security log line in:\n${app.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('logs honeypot hits and unknown-email failures, which have no team, with type, severity and ip', async () => {
    const http = new HttpClient(app.baseUrl);
    expect((await http.get('/v1/admin/users')).status).toBe(200);
    const email = `nobody-${Date.now()}@example.com`;
    expect((await http.post('/v1/auth/login', { email, password: 'Wrong-Password-123!' })).status).toBe(401);

    const honeypot = await waitForLine((l) => l.securityEvent === 'honeypot_triggered');
    expect(honeypot).toMatchObject({ teamId: null, ip: '127.0.0.1' });
    expect(typeof honeypot.severity).toBe('string');
    const failed = await waitForLine((l) => l.securityEvent === 'login_failed');
    expect(failed).toMatchObject({ teamId: null, userId: null, severity: 'low', ip: '127.0.0.1' });
    // The password never reaches the log.
    expect(app.output()).not.toContain('Wrong-Password-123!');
  });
});
