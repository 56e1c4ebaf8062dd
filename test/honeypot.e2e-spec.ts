import { type TestApp, startTestApp } from './helpers/test-app';

describe('honeypots and the IP blocklist', () => {
  let t: TestApp;
  const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });

  beforeAll(async () => {
    t = await startTestApp({ env: { TRUST_PROXY: 'loopback', HONEYPOT_BLOCK_HOURS: '24' } });
  });
  afterAll(() => t.close());

  const eventsFor = async (ip: string) =>
    await t.dataSource.query<{ event_type: string; severity: string; details: Record<string, unknown> }[]>(
      `SELECT event_type, severity, details FROM security_events WHERE ip_address = $1 ORDER BY created_at`,
      [ip],
    );

  it('GET /v1/admin/users answers a fake empty list and logs the caller as suspicious', async () => {
    const res = await t.http.get('/v1/admin/users', from('203.0.113.7'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, data: [] });
    const events = await eventsFor('203.0.113.7');
    expect(events).toEqual([expect.objectContaining({ event_type: 'honeypot_triggered', severity: 'high' })]);
    expect(events[0]!.details).toMatchObject({ decoy: 'admin-users', path: '/v1/admin/users' });
    // Looking is not enough to be blocked.
    expect((await t.http.get('/health', from('203.0.113.7'))).status).toBe(200);
  });

  it('POST /v1/admin/backdoor answers 404, then every request from that IP is 403 IP_BLOCKED and others are not', async () => {
    const attacker = '198.51.100.23';
    const res = await t.http.post('/v1/admin/backdoor', { cmd: 'id' }, from(attacker));
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');

    for (const path of ['/health', '/v1/auth/login', '/v1/clients', '/docs-json', '/v1/nothing-here']) {
      const blocked = await t.http.get(path, from(attacker));
      expect(blocked.status).toBe(403);
      expect(blocked.body).toEqual({ success: false, error: { code: 'IP_BLOCKED', message: expect.any(String) } });
    }
    const other = await t.http.get('/health', from('198.51.100.24'));
    expect(other.status).toBe(200);

    const types = (await eventsFor(attacker)).map((e) => e.event_type);
    expect(types).toEqual(expect.arrayContaining(['honeypot_triggered', 'ip_blocked']));
    const [row] = await t.dataSource.query(`SELECT blocked_until FROM ip_blocklist WHERE ip = $1`, [attacker]);
    const hours = (new Date(row.blocked_until).getTime() - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);
  });

  it('a cross-site POST to the backdoor (any web page can make a visitor send one) is recorded and blocks nothing', async () => {
    const visitor = '198.51.100.31';
    const viaPage = (headers: Record<string, string>) => ({ headers: { 'x-forwarded-for': visitor, ...headers } });
    // A classic form POST from another site: the browser adds its Origin; or only Fetch metadata says so.
    const crossSite: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of crossSite) {
      const res = await t.http.post('/v1/admin/backdoor', { cmd: 'id' }, viaPage(headers));
      expect(res.status).toBe(404);
    }
    expect((await t.http.get('/health', from(visitor))).status).toBe(200);
    expect(await t.dataSource.query(`SELECT 1 FROM ip_blocklist WHERE ip = $1`, [visitor])).toEqual([]);
    const events = await eventsFor(visitor);
    expect(events.map((e) => e.event_type)).toEqual(['honeypot_triggered', 'honeypot_triggered']);
    expect(events[0]!.details).toMatchObject({ decoy: 'backdoor', crossSite: 'https://evil.example', blocked: false });
  });

  it('the blocklist is shared through the database: another instance refuses the IP too', async () => {
    const second = await startTestApp({ env: { TRUST_PROXY: 'loopback' }, database: t.database });
    try {
      expect((await second.http.get('/health', from('198.51.100.23'))).status).toBe(403);
      expect((await second.http.get('/health', from('198.51.100.99'))).status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it('scanner probes (/.env, /wp-login.php, /phpmyadmin) are recorded and answered 404 without blocking', async () => {
    const scanner = '192.0.2.50';
    for (const path of ['/.env', '/wp-login.php', '/phpmyadmin']) {
      const res = await t.http.get(path, from(scanner));
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    const events = await eventsFor(scanner);
    expect(events.map((e) => e.details.path)).toEqual(['/.env', '/wp-login.php', '/phpmyadmin']);
    expect((await t.http.get('/health', from(scanner))).status).toBe(200);
  });

  it('without TRUST_PROXY a forged X-Forwarded-For does not move the block to someone else', async () => {
    const plain = await startTestApp({ database: t.database });
    try {
      // The socket address (127.0.0.1) is what counts; the header is ignored.
      const res = await plain.http.get('/health', from('198.51.100.23'));
      expect(res.status).toBe(200);
    } finally {
      await plain.close();
    }
  });
});
