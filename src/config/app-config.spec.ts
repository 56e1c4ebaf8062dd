import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseDurationSeconds } from './app-config';

const prod = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://u:p@db/hearth',
  JWT_SECRET: 'a'.repeat(32),
  DATA_ENCRYPTION_KEY: 'ab'.repeat(32),
};

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the contract defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const c = loadConfig({ DATA_DIR: dir });
    expect(c.port).toBe(3000);
    expect(c.jwt.accessTtlSeconds).toBe(900);
    expect(c.jwt.refreshTtlSeconds).toBe(7 * 86400);
    expect(c.sessions.reuseGraceSeconds).toBe(10);
    expect(c.lockout).toEqual({ maxAttempts: 5, durationMs: 30 * 60_000, busyWaitMs: 2000 });
    expect(c.rateLimits.login).toEqual({ max: 30, windowMs: 15 * 60_000 });
    expect(c.rateLimits.health).toEqual({ max: 60, windowMs: 60_000 });
    expect(c.cookies).toEqual({ secure: false, sameSite: 'strict', domain: undefined });
    expect(c.database.sslMode).toBe('disable');
    expect(c.csp.imgSrc).toEqual(["'self'", 'data:']);
  });

  it('generates development secrets once and reuses them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const first = loadConfig({ DATA_DIR: dir });
    const second = loadConfig({ DATA_DIR: dir });
    expect(first.generatedSecrets).toEqual(['JWT_SECRET', 'DATA_ENCRYPTION_KEY']);
    expect(second.jwt.secret).toBe(first.jwt.secret);
    expect(first.jwt.secret.length).toBeGreaterThanOrEqual(32);
    expect(JSON.parse(readFileSync(join(dir, 'dev-secrets.json'), 'utf8')).JWT_SECRET).toBe(first.jwt.secret);
  });

  it('accepts decimal minutes so tests need not wait', () => {
    const c = loadConfig({ ...prod, NODE_ENV: 'test', REAUTH_WINDOW_MINUTES: '0.1' });
    expect(c.reauth.windowMs).toBe(6000);
  });

  it('accepts a complete production config', () => {
    const c = loadConfig(prod);
    expect(c.isProduction).toBe(true);
    expect(c.cookies.secure).toBe(true);
    expect(c.database.sslMode).toBe('verify-full');
    expect(c.database.migrationUrl).toBeUndefined();
  });

  it('database roles and TLS: DATABASE_MIGRATION_URL is read, DB_SSL_CA must exist and goes with verify-full', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const ca = join(dir, 'ca.crt');
    writeFileSync(ca, 'not parsed here');
    const c = loadConfig({ ...prod, DATABASE_MIGRATION_URL: 'postgres://owner:x@db/hearth', DB_SSL_CA: ca });
    expect(c.database).toMatchObject({
      migrationUrl: 'postgres://owner:x@db/hearth',
      sslMode: 'verify-full',
      sslCaFile: ca,
    });
    expect(refusal({ ...prod, DB_SSL_CA: join(dir, 'missing.crt') }).message).toMatch(/^DB_SSL_CA: .* does not exist/);
    expect(refusal({ ...prod, DB_SSL_MODE: 'require', DB_SSL_CA: ca }).variable).toBe('DB_SSL_CA');
    // Development keeps disable as its default, and may choose require.
    expect(loadConfig({ DATA_DIR: dir }).database.sslMode).toBe('disable');
    expect(loadConfig({ ...prod, DB_SSL_MODE: 'require' }).database.sslMode).toBe('require');
  });

  it.each([
    ['JWT_SECRET', { JWT_SECRET: '' }],
    ['JWT_SECRET', { JWT_SECRET: 'too-short' }],
    ['DATA_ENCRYPTION_KEY', { DATA_ENCRYPTION_KEY: '' }],
    ['COOKIE_SECURE', { COOKIE_SECURE: 'false' }],
    ['DATABASE_URL', { DATABASE_URL: '' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'true' }],
    ['TRUST_PROXY', { TRUST_PROXY: ' TRUE ' }],
    ['DB_SSL_MODE', { DB_SSL_MODE: 'disable' }],
    ['DATABASE_URL', { DATABASE_URL: 'postgres://u:p@db/hearth?sslmode=no-verify' }],
    ['DATABASE_MIGRATION_URL', { DATABASE_MIGRATION_URL: 'postgres://o:p@db/hearth?ssl=false' }],
  ])('production refuses an unsafe %s', (variable, override) => {
    expect(refusal({ ...prod, ...override }).variable).toBe(variable);
  });

  it.each([
    '0.0.0.0/0',
    '::/0',
    '0.0.0.0/0,::/0',
    '0.0.0.0/0.0.0.0',
    '10.0.0.1/0',
    '::ffff:0.0.0.0/96',
    '::ffff:0:0/96',
    '0.0.0.0/1,128.0.0.0/1',
    'loopback, 0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/1',
    '::/1,8000::/1',
    '::/1, 8000::/2, c000::/2',
  ])('production refuses the catch-all TRUST_PROXY %s, naming it', (value) => {
    const err = refusal({ ...prod, TRUST_PROXY: value });
    expect(err.variable).toBe('TRUST_PROXY');
    expect(err.message).toMatch(/catch-all/);
  });

  it.each([
    '1',
    '2',
    'loopback',
    'loopback,uniquelocal',
    '10.0.0.0/8',
    '10.0.0.1, 10.0.0.2',
    '0.0.0.0/1',
    '::ffff:10.0.0.0/104',
    '2001:db8::/32',
    '::ffff:0:0/95',
  ])('production accepts the bounded TRUST_PROXY %s', (value) => {
    expect(loadConfig({ ...prod, TRUST_PROXY: value }).trustProxy).toBe(/^\d+$/.test(value) ? Number(value) : value);
  });

  it('names TRUST_PROXY for an entry the proxy-address parser would refuse at start-up', () => {
    expect(refusal({ ...prod, NODE_ENV: 'test', TRUST_PROXY: 'proxy.internal' }).variable).toBe('TRUST_PROXY');
    expect(refusal({ ...prod, NODE_ENV: 'test', TRUST_PROXY: '10.0.0.0/33' }).variable).toBe('TRUST_PROXY');
    expect(refusal({ ...prod, NODE_ENV: 'test', TRUST_PROXY: '0.0.0.0/0' }).message).toMatch(/use true/);
  });

  it('WEBHOOK_ALLOWED_PORTS: 80,443,8080,8443 by default; ranges allowed; the alert URL must use one of them', () => {
    expect(loadConfig(prod).webhooks.allowedPorts).toEqual([
      [80, 80],
      [443, 443],
      [8080, 8080],
      [8443, 8443],
    ]);
    expect(loadConfig({ ...prod, WEBHOOK_ALLOWED_PORTS: '443, 32768-60999' }).webhooks.allowedPorts).toEqual([
      [443, 443],
      [32768, 60999],
    ]);
    for (const bad of ['http', '0', '70000', '90-80', ','])
      expect(refusal({ ...prod, WEBHOOK_ALLOWED_PORTS: bad }).variable).toBe('WEBHOOK_ALLOWED_PORTS');
    expect(loadConfig({ ...prod, ALERT_WEBHOOK_URL: 'https://hooks.slack.com/services/x' }).alerts.webhookUrl).toBe(
      'https://hooks.slack.com/services/x',
    );
    const err = refusal({ ...prod, ALERT_WEBHOOK_URL: 'https://hooks.example.com:25/x' });
    expect(err.variable).toBe('ALERT_WEBHOOK_URL');
    expect(err.message).toMatch(/port 25/);
  });

  it('names the variable of a malformed value', () => {
    expect(refusal({ ...prod, NODE_ENV: 'test', MAX_LOGIN_ATTEMPTS: 'five' }).message).toBe(
      'MAX_LOGIN_ATTEMPTS: "five" is not a number',
    );
    expect(refusal({ ...prod, NODE_ENV: 'test', COOKIE_SAMESITE: 'sometimes' }).variable).toBe('COOKIE_SAMESITE');
    expect(refusal({ ...prod, NODE_ENV: 'test', DATA_ENCRYPTION_KEY: 'abcd' }).variable).toBe('DATA_ENCRYPTION_KEY');
  });

  it('reads earlier data keys, comma-separated, each 32 bytes in every environment', () => {
    const b = 'cd'.repeat(32);
    const c = Buffer.from('ef'.repeat(32), 'hex').toString('base64');
    expect(loadConfig(prod).dataEncryptionKeysPrevious).toEqual([]);
    const keys = loadConfig({ ...prod, DATA_ENCRYPTION_KEY_PREVIOUS: ` ${b} , ${c}` }).dataEncryptionKeysPrevious;
    expect(keys.map((k) => k.toString('hex'))).toEqual([b, 'ef'.repeat(32)]);
    const bad = refusal({ ...prod, DATA_ENCRYPTION_KEY_PREVIOUS: `${b},abcd` });
    expect(bad.variable).toBe('DATA_ENCRYPTION_KEY_PREVIOUS');
    expect(bad.message).toContain('entry 2');
    expect(refusal({ ...prod, NODE_ENV: 'test', DATA_ENCRYPTION_KEY_PREVIOUS: 'short' }).variable).toBe(
      'DATA_ENCRYPTION_KEY_PREVIOUS',
    );
  });

  it('REQUEST_TIMEOUT_MS / IMPORT_TIMEOUT_MS: 30 s / 120 s by default; an import never gets less than a request', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    expect(loadConfig({ DATA_DIR: dir }).requestTimeouts).toEqual({ requestMs: 30_000, importMs: 120_000 });
    expect(
      loadConfig({ DATA_DIR: dir, REQUEST_TIMEOUT_MS: '1000', IMPORT_TIMEOUT_MS: '2500' }).requestTimeouts,
    ).toEqual({ requestMs: 1000, importMs: 2500 });
    expect(
      refusal({ ...prod, NODE_ENV: 'test', REQUEST_TIMEOUT_MS: '60000', IMPORT_TIMEOUT_MS: '30000' }).variable,
    ).toBe('IMPORT_TIMEOUT_MS');
    expect(refusal({ ...prod, NODE_ENV: 'test', REQUEST_TIMEOUT_MS: '0' }).variable).toBe('REQUEST_TIMEOUT_MS');
  });

  it('metrics and tracing are off unless asked for; their values are checked', () => {
    const test = { ...prod, NODE_ENV: 'test' };
    const off = loadConfig(test);
    expect(off.metrics).toEqual({ port: undefined, host: '127.0.0.1' });
    expect(off.tracing).toEqual({ otlpEndpoint: undefined, serviceName: 'hearth-crm', exportDelayMs: 5000 });
    const on = loadConfig({
      ...test,
      METRICS_PORT: '9464',
      METRICS_HOST: '10.0.0.5',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_SERVICE_NAME: 'crm-eu',
    });
    expect(on.metrics).toEqual({ port: 9464, host: '10.0.0.5' });
    expect(on.tracing).toMatchObject({ otlpEndpoint: 'http://collector:4318', serviceName: 'crm-eu' });
    expect(refusal({ ...test, METRICS_PORT: 'nine' }).variable).toBe('METRICS_PORT');
    expect(refusal({ ...test, PORT: '9464', METRICS_PORT: '9464' }).message).toMatch(
      /^METRICS_PORT: must differ from PORT/,
    );
    expect(refusal({ ...test, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }).variable).toBe(
      'OTEL_EXPORTER_OTLP_ENDPOINT',
    );
    expect(refusal({ ...test, OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://collector' }).variable).toBe(
      'OTEL_EXPORTER_OTLP_ENDPOINT',
    );
  });

  it('parses durations', () => {
    expect(parseDurationSeconds('X', '15m')).toBe(900);
    expect(parseDurationSeconds('X', '7d')).toBe(604800);
    expect(parseDurationSeconds('X', '30')).toBe(30);
    expect(() => parseDurationSeconds('X', 'soon')).toThrow(ConfigError);
  });
});
