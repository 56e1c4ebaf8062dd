import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../config/app-config';
import { RESPONSE_SNIPPET_BYTES, sendSigned, signature } from './webhook-sender';

const SECRET = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;

describe('signature', () => {
  it('is what the standardwebhooks library verifies', () => {
    const body = JSON.stringify({ type: 'client.created', timestamp: new Date().toISOString(), data: { id: 'x' } });
    const ts = Math.floor(Date.now() / 1000);
    const headers = {
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(ts),
      'webhook-signature': signature(SECRET, 'evt_1', ts, body),
    };
    expect(new Webhook(SECRET).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(SECRET).verify(body, { ...headers, 'webhook-id': 'evt_2' })).toThrow();
  });
});

describe('sendSigned', () => {
  let server: Server;
  let port = 0;
  const seen: IncomingMessage[] = [];
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('ok');

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      req.resume();
      req.on('end', () => handler(req, res));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    seen.length = 0;
    handler = (_req, res) => res.end('ok');
  });

  const open = { policy: { allowPrivate: true, httpsOnly: false }, timeoutMs: 2_000 };
  const message = { id: 'evt_1', body: '{"type":"webhook.test"}' };

  it('connects to the vetted address, not to a second DNS answer', async () => {
    let lookups = 0;
    const resolve = (host: string) => {
      lookups++;
      expect(host).toBe('hooks.example.invalid');
      return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    };
    const result = await sendSigned(`http://hooks.example.invalid:${port}/in`, SECRET, message, { ...open, resolve });
    expect(result).toEqual({ ok: true, statusCode: 200, error: null });
    expect(lookups).toBe(1);
    expect(seen[0]!.headers.host).toBe(`hooks.example.invalid:${port}`);
    expect(seen[0]!.headers['webhook-id']).toBe('evt_1');
  });

  it('does not follow redirects', async () => {
    handler = (_req, res) => {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
      res.end();
    };
    const result = await sendSigned(`http://127.0.0.1:${port}/`, SECRET, message, open);
    expect(result.ok).toBe(false);
    expect(result.statusCode).toBe(302);
    expect(result.error).toMatch(/redirect to http:\/\/169\.254\.169\.254\/latest\/meta-data\/ not followed/);
    expect(seen).toHaveLength(1);
  });

  it('keeps at most 1 KiB of a large answer', async () => {
    handler = (_req, res) => {
      res.writeHead(500);
      res.end('x'.repeat(1_000_000));
    };
    const result = await sendSigned(`http://127.0.0.1:${port}/`, SECRET, message, open);
    expect(result.statusCode).toBe(500);
    expect(result.error!.length).toBeLessThanOrEqual(RESPONSE_SNIPPET_BYTES + 20);
  });

  it('gives up after the timeout', async () => {
    handler = () => undefined; // never answers
    const started = Date.now();
    const result = await sendSigned(`http://127.0.0.1:${port}/`, SECRET, message, { ...open, timeoutMs: 300 });
    expect(result).toMatchObject({ ok: false, statusCode: null, error: 'no answer within 300 ms' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('refuses a private target without connecting', async () => {
    const result = await sendSigned(`http://127.0.0.1:${port}/`, SECRET, message, {
      ...open,
      policy: { allowPrivate: false, httpsOnly: false },
    });
    expect(result.error).toMatch(/^refused: .*loopback/);
    expect(seen).toHaveLength(0);
  });
});

describe('webhook configuration', () => {
  const base = { DATA_DIR: '/tmp/hearth-webhook-config-spec', JWT_SECRET: 'x'.repeat(40) };
  it('has the contract defaults and accepts decimal retry bases', () => {
    expect(loadConfig({ ...base }).webhooks).toEqual({
      timeoutMs: 10_000,
      maxAttempts: 12,
      retryBaseMs: 30_000,
      allowPrivateTargets: false,
    });
    expect(loadConfig({ ...base, WEBHOOK_RETRY_BASE_SECONDS: '0.2' }).webhooks.retryBaseMs).toBe(200);
  });
  it('refuses private targets in production', () => {
    const production = {
      ...base,
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://x@db/x',
      DATA_ENCRYPTION_KEY: '00'.repeat(32),
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    };
    expect(() => loadConfig(production)).toThrow(/WEBHOOK_ALLOW_PRIVATE_TARGETS/);
    expect(loadConfig({ ...production, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' }).webhooks.allowPrivateTargets).toBe(
      false,
    );
  });
});
