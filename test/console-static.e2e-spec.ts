import { request as httpRequest } from 'node:http';
import { AUDIT_ACTIONS } from '../src/modules/audit/audit-chain';
import { SECURITY_EVENT_TYPES, SEVERITIES } from '../src/common/security/security-event-sink';
import { crmCatalogue } from '../src/common/resources/crm-catalogue';
import { type TestApp, startTestApp } from './helpers/test-app';

/** GET with the path sent byte for byte (fetch would normalise "..", which is exactly what we want to test). */
function rawGet(
  t: TestApp,
  path: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(t.baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('console static files at /console', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it.each(['/console', '/console/', '/console/index.html', '/console/sessions'])(
    '%s answers the app shell, never cached, under the strict CSP',
    async (path) => {
      const res = await t.http.get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.text).toContain('<script type="module" src="/console/app.js"></script>');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("img-src 'self' data:");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    },
  );

  it('has no inline script, inline style or style attribute in its HTML', async () => {
    const html = (await t.http.get('/console/')).text;
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/i);
    expect(html).not.toMatch(/<style[\s>]/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
  });

  it.each([
    ['/console/app.js', 'text/javascript; charset=utf-8'],
    ['/console/styles.css', 'text/css; charset=utf-8'],
    ['/console/favicon.svg', 'image/svg+xml'],
    ['/console/vendor/htm-preact.js', 'text/javascript; charset=utf-8'],
    ['/console/config.json', 'application/json; charset=utf-8'],
  ])('%s is served as %s', async (path, type) => {
    const res = await t.http.get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
  });

  it('serves the Preact + htm bundle from node_modules with no bare imports, cached for a day', async () => {
    const res = await t.http.get('/console/vendor/htm-preact.js');
    expect(res.text).toMatch(/export\s*\{[^}]*\bhtml\b/);
    expect(res.text).not.toMatch(/\bimport\s*[{*\w][^;]*from\s*["'][^./]/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=86400');
  });

  it('revalidates its own files with an ETag (304 when unchanged)', async () => {
    const first = await t.http.get('/console/styles.css');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers.get('cache-control')).toBe('no-cache');
    const again = await t.http.get('/console/styles.css', { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
  });

  it('tells the app the password policy and API key settings in force', async () => {
    const res = await t.http.get('/console/config.json');
    const config = JSON.parse(res.text);
    expect(Object.keys(config).sort()).toEqual([
      'apiKeys',
      'auditActions',
      'auditResourceTypes',
      'crmResources',
      'passwordPolicy',
      'securityEventTypes',
      'severities',
    ]);
    // The logs' filters are the server's own lists (the validation of the same query parameters).
    expect(config.auditActions).toEqual([...AUDIT_ACTIONS]);
    expect(config.securityEventTypes).toEqual([...SECURITY_EVENT_TYPES]);
    expect(config.severities).toEqual([...SEVERITIES]);
    expect(config).toMatchObject({
      passwordPolicy: {
        minLength: 12,
        maxLength: 128,
        requireUppercase: true,
        requireLowercase: true,
        requireNumber: true,
        requireSpecial: true,
      },
      apiKeys: { defaultExpiryDays: 90, maxExpiryDays: 365, expiryWarningDays: 7 },
    });
    // The console's lists come from the server's CRM catalogue: key scopes, webhook events, the audit filter.
    const registered = crmCatalogue.entries();
    expect(config.crmResources).toEqual(
      registered.map((e) => ({
        resource: e.resource,
        label: e.label,
        webhookType: e.webhookType,
        extraWebhookEvents: e.extraWebhookEvents,
      })),
    );
    expect(registered.map((e) => e.resource)).toEqual(expect.arrayContaining(['activities', 'tasks']));
    expect(config.auditResourceTypes).toEqual([
      ...registered.map((e) => e.auditType),
      'user',
      'api_key',
      'webhook',
      'team',
    ]);
  });

  it.each([
    '/console/../package.json',
    '/console/..%2fpackage.json',
    '/console/%2e%2e/package.json',
    '/console/%2e%2e%2fpackage.json',
    '/console/vendor/../../package.json',
    '/console/..%5cpackage.json',
    '/console/%2e%2e%5c%2e%2e%5cpackage.json',
    '/console/....//package.json',
    '/console/.gitkeep',
    '/console/%00index.html',
    '/console/index.html%00.js',
    '/console/vendor/../../node_modules/htm/package.json',
    '/console/nothing-here.js',
    '/console/app.ts',
  ])('refuses %s with a 404 that leaks nothing', async (path) => {
    const res = await rawGet(t, path);
    expect(res.status).toBe(404);
    expect(res.body).not.toContain('"name"');
    expect(res.body).not.toContain('hearth-crm');
    expect(JSON.parse(res.body)).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
  });

  it('answers a malformed percent-encoding with a 400 that leaks nothing (Fastify refuses it before routing)', async () => {
    const res = await rawGet(t, '/console/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(res.body).not.toMatch(/console|node_modules|at \w/);
    expect(JSON.parse(res.body)).toEqual({
      success: false,
      error: { code: 'VALIDATION_ERROR', message: 'Malformed URL' },
    });
  });

  it('is public, outside /v1, and absent from the OpenAPI document', async () => {
    expect((await t.http.get('/v1/console')).status).toBe(404);
    const doc = (await t.http.get('/docs-json')).body as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.includes('console'))).toEqual([]);
  });
});
