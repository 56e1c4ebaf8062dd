import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../config/app-config';
import { parsePortList } from '../../config/network-rules';
import { sendSigned, signature } from './webhook-sender';

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

  // The receiver listens on an ephemeral port: the port rule stays on, with that range allowed.
  const ports = () => parsePortList(`80,443,${port}`);
  const open = {
    get policy() {
      return { allowPrivate: true, httpsOnly: false, allowedPorts: ports() };
    },
    timeoutMs: 2_000,
  };
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
    expect(result.error).toBe('HTTP 302 Found (redirect not followed)');
    expect(seen).toHaveLength(1);
  });

  it('keeps the status line only: not the body, not the reason phrase the receiver wrote', async () => {
    handler = (_req, res) => {
      res.writeHead(500, 'SSH-2.0-OpenSSH_9.6 banner', { 'x-banner': 'internal' });
      res.end('220 mail.internal ESMTP Postfix'.repeat(1000));
    };
    const result = await sendSigned(`http://127.0.0.1:${port}/`, SECRET, message, open);
    expect(result).toEqual({ ok: false, statusCode: 500, error: 'HTTP 500 Internal Server Error' });
  });

  it('refuses a port outside WEBHOOK_ALLOWED_PORTS without connecting, private targets allowed or not', async () => {
    const result = await sendSigned(`http://127.0.0.1:${port}/`, SECRET, message, {
      ...open,
      policy: { allowPrivate: true, httpsOnly: false, allowedPorts: parsePortList('80,443,8080,8443') },
    });
    expect(result.error).toBe(`refused: url port ${port} is not allowed (WEBHOOK_ALLOWED_PORTS)`);
    expect(seen).toHaveLength(0);
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
      policy: { allowPrivate: false, httpsOnly: false, allowedPorts: ports() },
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
      allowedPorts: [
        [80, 80],
        [443, 443],
        [8080, 8080],
        [8443, 8443],
      ],
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
