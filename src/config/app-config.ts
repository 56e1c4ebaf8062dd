// Over 400 lines on purpose: every setting is read, defaulted and checked here in one place (one validation at start).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type PortRange,
  effectivePort,
  parsePortList,
  portAllowed,
  trustProxyCatchAll,
  trustProxyZeroPrefix,
} from './network-rules';

/** Thrown when the environment cannot produce a safe configuration; names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(`${variable}: ${reason}`);
  }
}

/** The contract's ceiling on an API key's lifetime (expiresInDays / expiresAt). */
export const MAX_API_KEY_LIFETIME_DAYS = 365;

export type SameSite = 'strict' | 'lax' | 'none';

export interface RateLimitRule {
  max: number;
  windowMs: number;
}

export interface AppConfig {
  port: number;
  env: 'development' | 'production' | 'test';
  isProduction: boolean;
  dataDir: string;
  publicUrl: string;
  database: {
    url?: string;
    poolMin: number;
    poolMax: number;
    queryTimeoutMs: number;
    /** DATABASE_MIGRATION_URL: the schema owner, for migrations only (unset: DATABASE_URL). */
    migrationUrl?: string;
    sslMode: 'disable' | 'require' | 'verify-full';
    /** DB_SSL_CA: the CA file that verify-full checks the server's certificate against (unset: Node's CAs). */
    sslCaFile?: string;
    embeddedPort: number;
  };
  redisUrl?: string;
  jwt: {
    secret: string;
    algorithm: 'HS256' | 'HS384' | 'HS512';
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
  };
  sessions: {
    reuseGraceSeconds: number;
    rotation: boolean;
    theftDetection: boolean;
    inactivityMs: number;
    absoluteMs: number;
  };
  reauth: { forDelete: boolean; forExport: boolean; windowMs: number };
  lockout: { maxAttempts: number; durationMs: number; busyWaitMs: number };
  rateLimits: {
    global: RateLimitRule;
    login: RateLimitRule;
    register: RateLimitRule;
    refresh: RateLimitRule;
    forgotPassword: RateLimitRule;
    health: RateLimitRule;
  };
  passwordPolicy: {
    minLength: number;
    maxLength: number;
    requireUppercase: boolean;
    requireLowercase: boolean;
    requireNumber: boolean;
    requireSpecial: boolean;
    historySize: number;
  };
  cookies: { secure: boolean; sameSite: SameSite; domain?: string };
  cors: { allowedOrigins: string[]; allowCredentials: boolean };
  trustProxy?: boolean | number | string;
  apiKeys: { defaultExpiryDays: number; expiryWarningDays: number };
  dataEncryptionKey: Buffer;
  /** Earlier data keys, accepted for opening sealed values during a rotation (never for sealing). */
  dataEncryptionKeysPrevious: Buffer[];
  /** User management needs an admin with 2FA enabled (key creation always does). */
  requireMfaForAdminActions: boolean;
  honeypotBlockMs: number;
  securityEvents: { enabled: boolean; retentionDays: number };
  detection: {
    emailLoginNotifications: boolean;
    deviceFingerprintCheck: boolean;
    ipAnomaly: boolean;
    geoThresholdMiles: number;
  };
  alerts: {
    onAccountLockout: boolean;
    onMultipleFailedLogins: boolean;
    onGeoAnomaly: boolean;
    onTokenTheft: boolean;
    emailTo?: string;
    webhookUrl?: string;
  };
  mail: { smtpUrl?: string; from: string; outboxDir: string };
  webhooks: {
    timeoutMs: number;
    maxAttempts: number;
    /** The first retry's delay; each later one doubles it. */
    retryBaseMs: number;
    /** Skip the SSRF address rule (never in production). */
    allowPrivateTargets: boolean;
    /** WEBHOOK_ALLOWED_PORTS: the only ports a webhook or alert target may use (checked at create and at delivery). */
    allowedPorts: PortRange[];
  };
  sentryDsn?: string;
  /** Prometheus `/metrics` on its own listener (METRICS_PORT unset: off). */
  metrics: { port?: number; host: string };
  /** OpenTelemetry traces over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT unset: off). */
  tracing: TracingConfig;
  /** Idempotency-Key records are kept this long (IDEMPOTENCY_TTL_HOURS). */
  idempotency: { ttlMs: number };
  /** CSV import ceilings (IMPORT_MAX_ROWS, IMPORT_MAX_BYTES). */
  csvImport: { maxRows: number; maxBytes: number };
  /**
   * How long a client may take to send a whole request, head and body (REQUEST_TIMEOUT_MS), and an import's
   * (IMPORT_TIMEOUT_MS); past it the request is 408 REQUEST_TIMEOUT and its connection closed.
   */
  requestTimeouts: { requestMs: number; importMs: number };
  /** Deleted CRM records stay in the trash this long, then the daily purge removes them (TRASH_RETENTION_DAYS). */
  trash: { retentionMs: number };
  /** Task reminder mail: how long before dueAt, how often the job looks, and how late it still sends one. */
  taskReminders: { leadMs: number; intervalMs: number; graceMs: number };
  csp: { defaultSrc: string[]; scriptSrc: string[]; styleSrc: string[]; imgSrc: string[]; connectSrc: string[] };
  logLevel: string;
  /** Where the generated development secrets came from, for the start-up warning. */
  generatedSecrets: string[];
}

type Env = Record<string, string | undefined>;

export interface TracingConfig {
  otlpEndpoint?: string;
  serviceName: string;
  /** How often buffered spans are sent (OTEL_BSP_SCHEDULE_DELAY, ms). */
  exportDelayMs: number;
}

const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "15m", "7d", "900" (seconds) → seconds. */
export function parseDurationSeconds(variable: string, raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!match) throw new ConfigError(variable, `"${raw}" is not a duration (examples: 900, 15m, 12h, 7d)`);
  const value = Number(match[1]);
  const unit = (match[2] ?? 's') as keyof typeof DURATION_UNITS;
  const seconds = (value * DURATION_UNITS[unit]) / 1000;
  if (seconds <= 0) throw new ConfigError(variable, 'must be greater than zero');
  return seconds;
}

class EnvReader {
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  number(name: string, fallback: number, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new ConfigError(name, `"${raw}" is not a number`);
    if (opts.integer && !Number.isInteger(value)) throw new ConfigError(name, `"${raw}" must be a whole number`);
    if (opts.min !== undefined && value < opts.min) throw new ConfigError(name, `must be at least ${opts.min}`);
    if (opts.max !== undefined && value > opts.max) throw new ConfigError(name, `must be at most ${opts.max}`);
    return value;
  }

  /** A duration given in minutes (decimals allowed) → milliseconds. */
  minutes(name: string, fallbackMinutes: number): number {
    return Math.round(this.number(name, fallbackMinutes, { min: 0.001 }) * 60_000);
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const lower = raw.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lower)) return true;
    if (['false', '0', 'no', 'off'].includes(lower)) return false;
    throw new ConfigError(name, `"${raw}" is not a boolean (use true or false)`);
  }

  list(name: string): string[] {
    const raw = this.raw(name);
    return raw
      ? raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [];
  }

  /** CSP source lists are space separated, as in the header itself. */
  sources(name: string, fallback: string[]): string[] {
    const raw = this.raw(name);
    return raw ? raw.split(/\s+/).filter(Boolean) : fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const lower = raw.toLowerCase() as T;
    if (!allowed.includes(lower)) throw new ConfigError(name, `"${raw}" must be one of ${allowed.join(', ')}`);
    return lower;
  }
}

function parseTrustProxy(raw: string | undefined, isProduction: boolean): boolean | number | string | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return undefined;
  if (/^\d+$/.test(raw)) return Number(raw);
  let catchAll: string | null;
  try {
    catchAll = trustProxyCatchAll(raw);
  } catch (err) {
    throw new ConfigError('TRUST_PROXY', (err as Error).message);
  }
  // Same reason as refusing true: any client of that family could pick its IP with X-Forwarded-For.
  if (catchAll && isProduction)
    throw new ConfigError(
      'TRUST_PROXY',
      `"${raw}" trusts ${catchAll} (a catch-all, like true): any client could pick its IP with X-Forwarded-For; name the proxy's own addresses or hop count`,
    );
  const zero = trustProxyZeroPrefix(raw);
  if (zero)
    throw new ConfigError(
      'TRUST_PROXY',
      `"${zero}": a /0 prefix is not accepted; outside production use true to trust every hop`,
    );
  return raw;
}

function parseAllowedPorts(raw: string | undefined): PortRange[] {
  try {
    return parsePortList(raw ?? '80,443,8080,8443');
  } catch (err) {
    throw new ConfigError('WEBHOOK_ALLOWED_PORTS', (err as Error).message);
  }
}

/** The operator's alert URL follows the webhook port rule too (checked here once: it does not change). */
function alertWebhookUrl(raw: string | undefined, allowedPorts: PortRange[]): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('ALERT_WEBHOOK_URL', 'is not a valid absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ConfigError('ALERT_WEBHOOK_URL', 'must be http(s)');
  if (!portAllowed(effectivePort(url), allowedPorts))
    throw new ConfigError('ALERT_WEBHOOK_URL', `port ${effectivePort(url)} is not in WEBHOOK_ALLOWED_PORTS`);
  return raw;
}

function decodeKey(variable: string, raw: string, which = ''): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) throw new ConfigError(variable, `must be 32 bytes, as 64 hex characters or base64${which}`);
  return key;
}

interface DevSecrets {
  JWT_SECRET: string;
  DATA_ENCRYPTION_KEY: string;
}

/** Development convenience: secrets generated once and kept under DATA_DIR so sessions survive restarts. */
function loadOrCreateDevSecrets(dataDir: string): DevSecrets {
  const file = join(dataDir, 'dev-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  mkdirSync(dataDir, { recursive: true });
  const secrets: DevSecrets = {
    JWT_SECRET: randomBytes(48).toString('base64url'),
    DATA_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/**
 * DB_SSL_MODE / DB_SSL_CA. `require` encrypts without checking who answers; `verify-full` checks the certificate
 * chain (against DB_SSL_CA when set) and that it names the host of the URL. Production defaults to verify-full
 * and refuses disable, and refuses an `sslmode`/`ssl` parameter in a database URL (node-postgres lets the URL's
 * parameters override DB_SSL_MODE, so `?sslmode=no-verify` would quietly undo it).
 */
function databaseTls(
  e: EnvReader,
  isProduction: boolean,
): { sslMode: AppConfig['database']['sslMode']; sslCaFile?: string } {
  const sslMode = e.oneOf(
    'DB_SSL_MODE',
    ['disable', 'require', 'verify-full'] as const,
    isProduction ? 'verify-full' : 'disable',
  );
  if (isProduction && sslMode === 'disable')
    throw new ConfigError(
      'DB_SSL_MODE',
      'must not be disable in production (credentials and data would cross the network in clear): use verify-full with DB_SSL_CA',
    );
  if (isProduction)
    for (const name of ['DATABASE_URL', 'DATABASE_MIGRATION_URL']) {
      const url = e.raw(name);
      if (url && /[?&](sslmode|ssl|sslrootcert|sslcert|sslkey)=/i.test(url))
        throw new ConfigError(
          name,
          'must not carry sslmode/ssl parameters in production (they override DB_SSL_MODE): set DB_SSL_MODE and DB_SSL_CA instead',
        );
    }
  const caFile = e.raw('DB_SSL_CA');
  if (caFile === undefined) return { sslMode };
  const sslCaFile = resolve(caFile);
  if (!existsSync(sslCaFile)) throw new ConfigError('DB_SSL_CA', `${sslCaFile} does not exist`);
  if (sslMode !== 'verify-full')
    throw new ConfigError('DB_SSL_CA', 'is only used with DB_SSL_MODE=verify-full (set it, or unset DB_SSL_CA)');
  return { sslMode, sslCaFile };
}

/** REQUEST_TIMEOUT_MS and IMPORT_TIMEOUT_MS: an import may take longer to upload, never less than a request. */
function requestTimeouts(e: EnvReader): AppConfig['requestTimeouts'] {
  const requestMs = e.number('REQUEST_TIMEOUT_MS', 30_000, { min: 100, max: 600_000, integer: true });
  const importMs = e.number('IMPORT_TIMEOUT_MS', 120_000, { min: 100, max: 3_600_000, integer: true });
  if (importMs < requestMs)
    throw new ConfigError('IMPORT_TIMEOUT_MS', `must be at least REQUEST_TIMEOUT_MS (${requestMs})`);
  return { requestMs, importMs };
}

/**
 * The tracing part alone: src/tracing.ts reads it before anything else is loaded (instrumentation must come
 * first), without loadConfig's side effects; loadConfig uses the same reader.
 */
export function loadTracingConfig(env: Env = process.env): TracingConfig {
  const e = new EnvReader(env);
  const otlpEndpoint = e.raw('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (otlpEndpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(otlpEndpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new ConfigError('OTEL_EXPORTER_OTLP_ENDPOINT', `"${otlpEndpoint}" is not an http(s) URL`);
  }
  return {
    otlpEndpoint,
    serviceName: e.string('OTEL_SERVICE_NAME', 'hearth-crm'),
    exportDelayMs: e.number('OTEL_BSP_SCHEDULE_DELAY', 5_000, { min: 1, max: 600_000, integer: true }),
  };
}

export function loadConfig(env: Env = process.env): AppConfig {
  const e = new EnvReader(env);
  const nodeEnv = e.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const isProduction = nodeEnv === 'production';
  const port = e.number('PORT', 3000, { min: 0, max: 65535, integer: true });
  const dataDir = resolve(e.string('DATA_DIR', '.data'));
  const databaseUrl = e.raw('DATABASE_URL');
  const generatedSecrets: string[] = [];

  if (isProduction) {
    if (!databaseUrl)
      throw new ConfigError(
        'DATABASE_URL',
        'is required in production (the embedded database is for development only)',
      );
    const jwt = e.raw('JWT_SECRET');
    if (!jwt) throw new ConfigError('JWT_SECRET', 'is required in production');
    if (jwt.length < 32)
      throw new ConfigError('JWT_SECRET', `must be at least 32 characters in production (got ${jwt.length})`);
    if (!e.raw('DATA_ENCRYPTION_KEY'))
      throw new ConfigError('DATA_ENCRYPTION_KEY', 'is required in production (32 bytes, hex or base64)');
    if (e.raw('TRUST_PROXY')?.trim().toLowerCase() === 'true')
      throw new ConfigError(
        'TRUST_PROXY',
        'must not be true in production (any client could pick its IP with X-Forwarded-For): name the proxy hops, e.g. 1, loopback or a CIDR',
      );
    if (e.boolean('WEBHOOK_ALLOW_PRIVATE_TARGETS', false))
      throw new ConfigError(
        'WEBHOOK_ALLOW_PRIVATE_TARGETS',
        'must not be true in production (tenant admins could make the server call its own network)',
      );
    if (!e.boolean('COOKIE_SECURE', true))
      throw new ConfigError(
        'COOKIE_SECURE',
        'must be true in production (refresh cookies would travel over plain HTTP)',
      );
  }

  let jwtSecret = e.raw('JWT_SECRET');
  let encryptionKeyRaw = e.raw('DATA_ENCRYPTION_KEY');
  if (!jwtSecret || !encryptionKeyRaw) {
    const dev = loadOrCreateDevSecrets(dataDir);
    if (!jwtSecret) {
      jwtSecret = dev.JWT_SECRET;
      generatedSecrets.push('JWT_SECRET');
    }
    if (!encryptionKeyRaw) {
      encryptionKeyRaw = dev.DATA_ENCRYPTION_KEY;
      generatedSecrets.push('DATA_ENCRYPTION_KEY');
    }
  }
  if (jwtSecret.length < 32)
    throw new ConfigError('JWT_SECRET', `must be at least 32 characters (got ${jwtSecret.length})`);

  const sameSite = e.oneOf('COOKIE_SAMESITE', ['strict', 'lax', 'none'] as const, 'strict');
  const cookieSecure = e.boolean('COOKIE_SECURE', isProduction);
  if (sameSite === 'none' && !cookieSecure)
    throw new ConfigError('COOKIE_SAMESITE', 'none requires COOKIE_SECURE=true (browsers drop such cookies)');

  const rule = (prefix: string, max: number, windowMinutes: number): RateLimitRule => ({
    max: e.number(`${prefix}_MAX`, max, { min: 1, integer: true }),
    windowMs: e.minutes(`${prefix}_WINDOW`, windowMinutes),
  });

  const minPasswordLength = e.number('MIN_PASSWORD_LENGTH', 12, { min: 8, max: 128, integer: true });
  const poolMin = e.number('DB_CONNECTION_POOL_MIN', 2, { min: 0, integer: true });
  const poolMax = e.number('DB_CONNECTION_POOL_MAX', 10, { min: 1, integer: true });
  if (poolMin > poolMax)
    throw new ConfigError('DB_CONNECTION_POOL_MIN', `must not exceed DB_CONNECTION_POOL_MAX (${poolMax})`);

  const metricsPort =
    e.raw('METRICS_PORT') === undefined
      ? undefined
      : e.number('METRICS_PORT', 0, { min: 0, max: 65535, integer: true });
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port)
    throw new ConfigError('METRICS_PORT', `must differ from PORT (${port}): /metrics is never served on the API port`);

  const publicUrl = e.string('PUBLIC_URL', `http://localhost:${port}`).replace(/\/+$/, '');
  const webhookAllowedPorts = parseAllowedPorts(e.raw('WEBHOOK_ALLOWED_PORTS'));
  const self = ["'self'"];

  return {
    port,
    env: nodeEnv,
    isProduction,
    dataDir,
    publicUrl,
    database: {
      url: databaseUrl,
      migrationUrl: e.raw('DATABASE_MIGRATION_URL'),
      poolMin,
      poolMax,
      queryTimeoutMs: e.number('DB_QUERY_TIMEOUT_MS', 30_000, { min: 100, integer: true }),
      ...databaseTls(e, isProduction),
      embeddedPort: e.number('EMBEDDED_PG_PORT', 54329, { min: 1, max: 65535, integer: true }),
    },
    redisUrl: e.raw('REDIS_URL'),
    jwt: {
      secret: jwtSecret,
      algorithm: e
        .oneOf('JWT_ALGORITHM', ['hs256', 'hs384', 'hs512'] as const, 'hs256')
        .toUpperCase() as AppConfig['jwt']['algorithm'],
      accessTtlSeconds: parseDurationSeconds('JWT_EXPIRATION', e.string('JWT_EXPIRATION', '15m')),
      refreshTtlSeconds: parseDurationSeconds('REFRESH_TOKEN_EXPIRATION', e.string('REFRESH_TOKEN_EXPIRATION', '7d')),
    },
    sessions: {
      reuseGraceSeconds: e.number('REFRESH_TOKEN_REUSE_GRACE_SECONDS', 10, { min: 0 }),
      rotation: e.boolean('ENABLE_TOKEN_ROTATION', true),
      theftDetection: e.boolean('ENABLE_THEFT_DETECTION', true),
      inactivityMs: e.minutes('SESSION_INACTIVITY_TIMEOUT_MINUTES', 60),
      absoluteMs: Math.round(e.number('SESSION_ABSOLUTE_TIMEOUT_HOURS', 12, { min: 0.0001 }) * 3_600_000),
    },
    reauth: {
      forDelete: e.boolean('REQUIRE_REAUTH_FOR_DELETE', true),
      forExport: e.boolean('REQUIRE_REAUTH_FOR_EXPORT', true),
      windowMs: e.minutes('REAUTH_WINDOW_MINUTES', 5),
    },
    lockout: {
      maxAttempts: e.number('MAX_LOGIN_ATTEMPTS', 5, { min: 1, integer: true }),
      durationMs: e.minutes('LOCKOUT_DURATION_MINUTES', 30),
      busyWaitMs: e.number('LOCKOUT_BUSY_WAIT_MS', 2000, { min: 0, max: 30_000, integer: true }),
    },
    rateLimits: {
      global: rule('RATE_LIMIT_GLOBAL', 1000, 15),
      login: rule('RATE_LIMIT_LOGIN', 30, 15),
      register: rule('RATE_LIMIT_REGISTER', 5, 60),
      refresh: rule('RATE_LIMIT_REFRESH', 100, 15),
      forgotPassword: rule('RATE_LIMIT_FORGOT_PASSWORD', 5, 60),
      health: rule('RATE_LIMIT_HEALTH', 60, 1),
    },
    passwordPolicy: {
      minLength: minPasswordLength,
      maxLength: 128,
      requireUppercase: e.boolean('REQUIRE_UPPERCASE', true),
      requireLowercase: e.boolean('REQUIRE_LOWERCASE', true),
      requireNumber: e.boolean('REQUIRE_NUMBER', true),
      requireSpecial: e.boolean('REQUIRE_SPECIAL_CHAR', true),
      historySize: 3,
    },
    cookies: { secure: cookieSecure, sameSite, domain: e.raw('COOKIE_DOMAIN') },
    cors: {
      allowedOrigins: e.list('CORS_ALLOWED_ORIGINS'),
      allowCredentials: e.boolean('CORS_ALLOW_CREDENTIALS', true),
    },
    trustProxy: parseTrustProxy(e.raw('TRUST_PROXY'), isProduction),
    apiKeys: {
      defaultExpiryDays: e.number('API_KEY_DEFAULT_EXPIRY_DAYS', 90, { min: 1, max: MAX_API_KEY_LIFETIME_DAYS }),
      expiryWarningDays: e.number('API_KEY_EXPIRY_WARNING_DAYS', 7, { min: 0, max: MAX_API_KEY_LIFETIME_DAYS }),
    },
    dataEncryptionKey: decodeKey('DATA_ENCRYPTION_KEY', encryptionKeyRaw),
    dataEncryptionKeysPrevious: e
      .list('DATA_ENCRYPTION_KEY_PREVIOUS')
      .map((raw, i) => decodeKey('DATA_ENCRYPTION_KEY_PREVIOUS', raw, ` (entry ${i + 1} of the list)`)),
    requireMfaForAdminActions: e.boolean('REQUIRE_MFA_FOR_ADMIN_ACTIONS', true),
    honeypotBlockMs: Math.round(e.number('HONEYPOT_BLOCK_HOURS', 24, { min: 0.0001 }) * 3_600_000),
    securityEvents: {
      enabled: e.boolean('ENABLE_SECURITY_EVENT_LOGGING', true),
      retentionDays: e.number('SECURITY_LOG_RETENTION_DAYS', 90, { min: 1 }),
    },
    detection: {
      emailLoginNotifications: e.boolean('ENABLE_EMAIL_LOGIN_NOTIFICATIONS', true),
      deviceFingerprintCheck: e.boolean('ENABLE_DEVICE_FINGERPRINT_CHECK', false),
      ipAnomaly: e.boolean('ENABLE_IP_ANOMALY_DETECTION', false),
      geoThresholdMiles: e.number('GEO_ANOMALY_THRESHOLD_MILES', 500, { min: 1 }),
    },
    alerts: {
      onAccountLockout: e.boolean('ALERT_ON_ACCOUNT_LOCKOUT', true),
      onMultipleFailedLogins: e.boolean('ALERT_ON_MULTIPLE_FAILED_LOGINS', true),
      onGeoAnomaly: e.boolean('ALERT_ON_GEO_ANOMALY', true),
      onTokenTheft: e.boolean('ALERT_ON_TOKEN_THEFT_DETECTION', true),
      emailTo: e.raw('ALERT_EMAIL_TO'),
      webhookUrl: alertWebhookUrl(e.raw('ALERT_WEBHOOK_URL'), webhookAllowedPorts),
    },
    mail: {
      smtpUrl: e.raw('SMTP_URL'),
      from: e.string('MAIL_FROM', 'Hearth CRM <no-reply@hearth.local>'),
      outboxDir: join(dataDir, 'outbox'),
    },
    webhooks: {
      timeoutMs: e.number('WEBHOOK_TIMEOUT_MS', 10_000, { min: 100, max: 120_000, integer: true }),
      maxAttempts: e.number('WEBHOOK_MAX_ATTEMPTS', 12, { min: 1, max: 50, integer: true }),
      retryBaseMs: Math.round(e.number('WEBHOOK_RETRY_BASE_SECONDS', 30, { min: 0.01, max: 86_400 }) * 1000),
      allowPrivateTargets: e.boolean('WEBHOOK_ALLOW_PRIVATE_TARGETS', false),
      allowedPorts: webhookAllowedPorts,
    },
    sentryDsn: e.raw('SENTRY_DSN'),
    metrics: { port: metricsPort, host: e.string('METRICS_HOST', '127.0.0.1') },
    tracing: loadTracingConfig(env),
    idempotency: { ttlMs: Math.round(e.number('IDEMPOTENCY_TTL_HOURS', 24, { min: 0.0001 }) * 3_600_000) },
    trash: { retentionMs: Math.round(e.number('TRASH_RETENTION_DAYS', 90, { min: 0 }) * 86_400_000) },
    csvImport: {
      maxRows: e.number('IMPORT_MAX_ROWS', 50_000, { min: 1, integer: true }),
      maxBytes: e.number('IMPORT_MAX_BYTES', 20 * 1024 * 1024, { min: 1, integer: true }),
    },
    requestTimeouts: requestTimeouts(e),
    taskReminders: {
      leadMs: Math.round(e.number('TASK_REMINDER_MINUTES', 60, { min: 0 }) * 60_000),
      intervalMs: Math.round(e.number('TASK_REMINDER_INTERVAL_SECONDS', 30, { min: 0.05, max: 3600 }) * 1000),
      graceMs: e.minutes('TASK_REMINDER_GRACE_MINUTES', 15),
    },
    csp: {
      defaultSrc: e.sources('CSP_DEFAULT_SRC', self),
      scriptSrc: e.sources('CSP_SCRIPT_SRC', self),
      styleSrc: e.sources('CSP_STYLE_SRC', self),
      imgSrc: e.sources('CSP_IMG_SRC', [...self, 'data:']),
      connectSrc: e.sources('CSP_CONNECT_SRC', self),
    },
    logLevel: e.oneOf(
      'LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      nodeEnv === 'test' ? 'warn' : 'info',
    ),
    generatedSecrets,
  };
}
