import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { type TestApp, startTestApp } from './helpers/test-app';
import { expectNoLeak } from './helpers/http';

describe('foundation: HTTP conventions, health, docs', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { CORS_ALLOWED_ORIGINS: 'https://crm.example.com' } });
  });
  afterAll(() => t.close());

  it('GET /health is 200 with the success envelope', async () => {
    const res = await t.http.get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, data: expect.objectContaining({ status: 'ok' }) });
  });

  it('GET /health/ready is 200 while the database answers and 503 while it does not', async () => {
    expect((await t.http.get('/health/ready')).status).toBe(200);
    const admin = new Client({ connectionString: t.database.adminUrl });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE ${t.database.name} ALLOW_CONNECTIONS false`);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [t.database.name]);
      const down = await t.http.get('/health/ready');
      expect(down.status).toBe(503);
      expect(down.body.success).toBe(false);
      expect(down.body.error.code).toBe('SERVICE_UNAVAILABLE');
      expectNoLeak(down.text);
    } finally {
      await admin.query(`ALTER DATABASE ${t.database.name} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    // The pool reconnects by itself.
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (await t.http.get('/health/ready')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
  });

  it('an unknown route is a 404 envelope', async () => {
    const res = await t.http.get('/v1/does-not-exist');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ success: false, error: { code: 'NOT_FOUND', message: expect.any(String) } });
  });

  it('malformed JSON is a 400 envelope', async () => {
    const res = await t.http.request('POST', '/v1/auth/login', { rawBody: '{"email": "a@b.c",' });
    expect(res.status).toBe(400);
    expect(res.body.success).toBe(false);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expectNoLeak(res.text);
  });

  it('a 2 MiB body is 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await t.http.request('POST', '/v1/auth/login', {
      rawBody: JSON.stringify({ notes: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('__proto__ keys are refused', async () => {
    const res = await t.http.request('POST', '/v1/auth/login', { rawBody: '{"__proto__": {"admin": true}}' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('sets the security headers and no X-Powered-By', async () => {
    const res = await t.http.get('/health');
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
  });

  it('CORS answers allowed origins only, with credentials', async () => {
    const ok = await t.http.request('OPTIONS', '/v1/auth/login', {
      headers: { origin: 'https://crm.example.com', 'access-control-request-method': 'POST' },
    });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://crm.example.com');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    const bad = await t.http.request('OPTIONS', '/v1/auth/login', {
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
    // An integration in an allowed origin can send Idempotency-Key and If-Match and read ETag and the replay flag.
    const write = await t.http.request('OPTIONS', '/v1/clients/00000000-0000-4000-8000-000000000000', {
      headers: {
        origin: 'https://crm.example.com',
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'authorization,content-type,if-match,idempotency-key',
      },
    });
    const allowed = (write.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const header of ['if-match', 'idempotency-key', 'authorization']) expect(allowed).toContain(header);
    const get = await t.http.get('/health', { headers: { origin: 'https://crm.example.com' } });
    const exposed = (get.headers.get('access-control-expose-headers') ?? '').toLowerCase();
    for (const header of ['etag', 'idempotent-replayed', 'retry-after']) expect(exposed).toContain(header);
  });

  it('GET /docs-json is an OpenAPI 3 document and /docs serves the UI', async () => {
    const res = await t.http.get('/docs-json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(res.body.info.title).toBe('Hearth CRM API');
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/health', '/health/ready']));
    const ui = await t.http.get('/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
  });
});

describe('start-up refuses unsafe production config', () => {
  const main = join(__dirname, '..', 'src', 'main.ts');
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', main], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', DATA_DIR: '/tmp/hearth-unsafe', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
  const safe = {
    DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db',
    JWT_SECRET: 'x'.repeat(40),
    DATA_ENCRYPTION_KEY: 'ab'.repeat(32),
    COOKIE_SECURE: 'true',
  };

  it.each([
    ['JWT_SECRET', { JWT_SECRET: '' }],
    ['JWT_SECRET', { JWT_SECRET: 'short-secret' }],
    ['DATA_ENCRYPTION_KEY', { DATA_ENCRYPTION_KEY: '' }],
    ['COOKIE_SECURE', { COOKIE_SECURE: 'false' }],
    ['DATABASE_URL', { DATABASE_URL: '' }],
  ])('exits non-zero naming %s', (variable, override) => {
    const result = run({ ...safe, ...override });
    expect(result.status).not.toBe(0);
    const line = result.stderr.trim().split('\n')[0];
    expect(line).toMatch(new RegExp(`^Refusing to start: ${variable}: `));
  });
});
