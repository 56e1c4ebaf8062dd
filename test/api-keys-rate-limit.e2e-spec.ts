import { randomBytes } from 'node:crypto';
import { type TestApp, startTestApp } from './helpers/test-app';

/** A well-formed key with a fresh prefix each time: the shape a key-guessing client would send. */
const garbageKey = () => `hk_${randomBytes(4).toString('hex')}_${randomBytes(32).toString('base64url')}`;

describe('rate limits: API keys that do not authenticate are charged to the caller', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { TRUST_PROXY: 'loopback', RATE_LIMIT_GLOBAL_MAX: '5' } });
  });
  afterAll(() => t.close());

  it('a fresh prefix per request buys no fresh budget: after the limit the IP gets 429, other IPs do not', async () => {
    const from = (ip: string) => ({ apiKey: garbageKey(), headers: { 'x-forwarded-for': ip } });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await t.http.get('/v1/clients', from('198.51.100.7'))).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const refused = await t.http.get('/v1/clients', from('198.51.100.7'));
    expect(refused.body.error.code).toBe('RATE_LIMIT');
    expect(refused.headers.get('retry-after')).toBeTruthy();
    // The same IP without a key is over its limit too; another IP is untouched.
    expect((await t.http.get('/v1/clients', { headers: { 'x-forwarded-for': '198.51.100.7' } })).status).toBe(429);
    expect((await t.http.get('/v1/clients', from('198.51.100.8'))).status).toBe(401);
  });
});
