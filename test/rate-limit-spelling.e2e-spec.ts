import { connect } from 'node:net';
import { type TestApp, startTestApp } from './helpers/test-app';
import { type SignedIn, registerTeam } from './helpers/auth';
import { enrolMfa } from './helpers/mfa';
import { type InstancesOnRedis, describeWithRedis, startInstancesOnRedis } from './helpers/redis-server';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: any;
}

/**
 * One request written byte for byte on a socket: the request target goes out exactly as given (fetch would
 * normalise it), including the absolute form `http://host/path`.
 */
function raw(t: TestApp, target: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const port = Number(new URL(t.baseUrl).port);
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${target} HTTP/1.1\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`);
    });
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (out += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const [head, ...rest] = out.split('\r\n\r\n');
      const [statusLine, ...lines] = head!.split('\r\n');
      const parsed: Record<string, string> = {};
      for (const line of lines) {
        const i = line.indexOf(':');
        parsed[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      let body: unknown = rest.join('\r\n\r\n');
      if (parsed['transfer-encoding'] === 'chunked') body = (body as string).split('\r\n').slice(1, -3).join('');
      try {
        body = JSON.parse(body as string);
      } catch {
        // not JSON: left as text
      }
      resolve({ status: Number(statusLine!.split(' ')[1]), headers: parsed, body });
    });
  });
}

const SPELLINGS = ['/v1/clients', '/%761/clients', 'http://localhost/v1/clients', '/v1/clients/'];

describe('rate limits apply to the route as routed, however its path is spelled', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_GLOBAL_MAX: '5' } });
  });
  afterAll(() => t.close());

  it('/v1/clients, /%761/clients, an absolute-form target and /v1/clients/ share one budget: the 6th is 429', async () => {
    const statuses: Record<string, number> = {};
    for (const target of SPELLINGS) statuses[target] = (await raw(t, target)).status;
    // The encoded and absolute forms reach the /v1/clients handler (its guards answer 401), they are not 404s.
    expect(statuses).toEqual({
      '/v1/clients': 401,
      '/%761/clients': 401,
      'http://localhost/v1/clients': 401,
      // No handler: it matches /v1/clients/:id with an empty id, which Nest's router answers 404. Counted all the same.
      '/v1/clients/': 404,
    });
    expect((await raw(t, '/%761/clients')).status).toBe(401);
    // Six requests in all: whichever spelling comes next is refused.
    for (const target of SPELLINGS) {
      const refused = await raw(t, target);
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('RATE_LIMIT');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }
    // One rate_limited event for the window, naming the route as routed.
    const events = await t.dataSource.query(
      `SELECT details FROM security_events WHERE event_type = 'rate_limited' ORDER BY created_at`,
    );
    expect(events).toHaveLength(1);
    expect(events[0].details).toMatchObject({ bucket: 'global', limit: 5 });
  });
});

describe('rate limits: a wrong secret never spends the budget of the key it names', () => {
  let setup: TestApp;
  let t: TestApp;
  let admin: SignedIn;
  let codes: string[];
  const createKey = async (body: Record<string, unknown>) => {
    const res = await setup.http.post('/v1/api-keys', { otp: codes.shift(), ...body }, { token: admin.accessToken });
    if (res.status !== 201) throw new Error(`key: ${res.status} ${res.text}`);
    return res.body.data as { id: string; key: string; prefix: string };
  };
  const from = (ip: string, apiKey?: string) => ({ apiKey, headers: { 'x-forwarded-for': ip } });

  beforeAll(async () => {
    // Keys are made on an instance with the test defaults; the instance under test shares its database.
    setup = await startTestApp();
    t = await startTestApp({ env: { TRUST_PROXY: 'loopback', RATE_LIMIT_GLOBAL_MAX: '5' }, database: setup.database });
    admin = await registerTeam(setup);
    codes = (await enrolMfa(setup, admin.accessToken)).backupCodes;
  });
  afterAll(async () => {
    await t?.close();
    await setup?.close();
  });

  it('the real prefix with a wrong secret: 401s charged to the IP, then the IP is limited; the key keeps its budget', async () => {
    const { key } = await createKey({ name: 'integration', scopes: ['clients:read'] });
    const secret = key.slice(key.indexOf('_', 3) + 1);
    const forged = key.slice(0, key.length - secret.length) + 'x'.repeat(secret.length);
    expect(forged).not.toBe(key);

    const attacker = '198.51.100.20';
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await t.http.get('/v1/clients', from(attacker, forged))).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    // The attacker's IP is over its limit whatever it shows, the real key included.
    expect((await t.http.get('/v1/clients', from(attacker, key))).status).toBe(429);

    // The key's owner, elsewhere, still has the key's whole budget: 5 answers, then the key's own limit.
    const owner = '203.0.113.30';
    const own: number[] = [];
    for (let i = 0; i < 6; i++) own.push((await t.http.get('/v1/clients', from(owner, key))).status);
    expect(own).toEqual([200, 200, 200, 200, 200, 429]);
    // That limit is the key's, not the owner's IP's: the key is refused from a third address too, while the
    // owner's IP, which spent nothing of its own, still answers (401 without credentials).
    expect((await t.http.get('/v1/clients', from('203.0.113.31', key))).status).toBe(429);
    expect((await t.http.get('/v1/clients', from(owner))).status).toBe(401);
  });

  it('a key refused for its allow-list (403) is charged to the IP too, not to the key', async () => {
    const { key } = await createKey({ name: 'office only', scopes: ['clients:read'], allowedIps: ['192.0.2.1'] });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await t.http.get('/v1/clients', from('198.51.100.40', key))).status);
    expect(statuses).toEqual([403, 403, 403, 403, 403, 429]);
    const office: number[] = [];
    for (let i = 0; i < 6; i++) office.push((await t.http.get('/v1/clients', from('192.0.2.1', key))).status);
    expect(office).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('a key shown to a public route is charged to the IP (a made-up key is no way around the limit)', async () => {
    const garbage = 'hk_0000abcd_' + 'y'.repeat(43);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await t.http.post(
        '/v1/auth/forgot-password',
        { email: 'nobody@example.com' },
        from('198.51.100.50', garbage),
      );
      statuses.push(res.status);
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
  });
});

describeWithRedis('rate limits: two instances sharing one redis-server share the global limit', () => {
  let instances: InstancesOnRedis | undefined;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    instances = await startInstancesOnRedis({ RATE_LIMIT_GLOBAL_MAX: '5' });
    ({ a, b } = instances);
  });
  afterAll(() => instances?.close());

  it('requests on A and B, in any spelling, add up to one limit', async () => {
    expect((await raw(a, '/v1/clients')).status).toBe(401);
    expect((await raw(b, '/%761/clients')).status).toBe(401);
    expect((await raw(a, 'http://localhost/v1/clients')).status).toBe(401);
    expect((await raw(b, '/v1/clients')).status).toBe(401);
    expect((await raw(a, '/v1/clients/')).status).toBe(404);
    const onB = await raw(b, 'http://localhost/v1/clients');
    expect(onB.status).toBe(429);
    expect(onB.body.error.code).toBe('RATE_LIMIT');
    expect((await raw(a, '/v1/clients')).status).toBe(429);
  });
});
