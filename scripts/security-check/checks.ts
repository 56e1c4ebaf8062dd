import { type AppConfig } from '../../src/config/app-config';

export interface ControlResult {
  id: string;
  /** The line of the security plan's checklist (or production configuration) this control proves. */
  control: string;
  pass: boolean;
  detail: string;
  /** Advice, not a control: printed as WARN when it does not pass and left out of the score. */
  warning?: boolean;
}

type Env = Record<string, string | undefined>;

/** Secrets that have been published (the plan's old hard-coded one) or are placeholders. */
const KNOWN_BAD_SECRET =
  /^279fffb2e462a0f2d8b41137be7452c4746f99f2ff3dd0aeafb22f2e799c1472$|change-?this|your-production-secret|replace-with|secret{1,2}$|^(.)\1+$/i;

const UNSAFE_CSP = /'unsafe-inline'|'unsafe-eval'|^\*$|^https?:$/;

function perMinute(rule: { max: number; windowMs: number }): number {
  return rule.max / (rule.windowMs / 60_000);
}

/** Controls read from the effective configuration (the plan's "Final Security Checklist" made measurable). */
export function checkConfig(config: AppConfig, env: Env): ControlResult[] {
  const minutes = (ms: number) => Math.round((ms / 60_000) * 100) / 100;
  const r = (id: string, control: string, pass: boolean, detail: string): ControlResult => ({
    id,
    control,
    pass,
    detail,
  });
  const csp = config.csp;
  const unsafeCsp = [...csp.defaultSrc, ...csp.scriptSrc, ...csp.styleSrc, ...csp.connectSrc].filter((s) =>
    UNSAFE_CSP.test(s),
  );
  const alertsWired = Boolean(config.alerts.emailTo || config.alerts.webhookUrl);
  const alertRules = [
    config.alerts.onAccountLockout,
    config.alerts.onMultipleFailedLogins,
    config.alerts.onGeoAnomaly,
    config.alerts.onTokenTheft,
  ];
  const p = config.passwordPolicy;

  return [
    r(
      'production-mode',
      'Runs with NODE_ENV=production (unsafe config refused at start)',
      config.isProduction,
      `NODE_ENV=${config.env}`,
    ),
    r(
      'jwt-secret',
      'JWT secret in an environment variable, 32+ characters, not a published or placeholder value',
      Boolean(env.JWT_SECRET) && config.jwt.secret.length >= 32 && !KNOWN_BAD_SECRET.test(config.jwt.secret),
      !env.JWT_SECRET
        ? 'not set (a development secret was generated)'
        : KNOWN_BAD_SECRET.test(config.jwt.secret)
          ? 'a published or placeholder secret: generate a new one'
          : `${config.jwt.secret.length} characters`,
    ),
    r(
      'access-token-lifetime',
      'Access tokens live 5-15 minutes (OWASP)',
      config.jwt.accessTtlSeconds <= 900,
      `JWT_EXPIRATION=${config.jwt.accessTtlSeconds / 60} min`,
    ),
    r(
      'refresh-rotation',
      'Refresh tokens rotate on every use and live 7-30 days',
      config.sessions.rotation && config.jwt.refreshTtlSeconds <= 30 * 86400,
      `rotation ${config.sessions.rotation ? 'on' : 'OFF'}, lifetime ${config.jwt.refreshTtlSeconds / 86400} days`,
    ),
    r(
      'theft-detection',
      'Reuse of a rotated refresh token revokes every session',
      config.sessions.theftDetection,
      `ENABLE_THEFT_DETECTION=${config.sessions.theftDetection}`,
    ),
    r(
      'account-lockout',
      'Account lockout after failed logins (at most 10 attempts, 15+ minutes)',
      config.lockout.maxAttempts <= 10 && config.lockout.durationMs >= 15 * 60_000,
      `${config.lockout.maxAttempts} attempts, ${minutes(config.lockout.durationMs)} min`,
    ),
    r(
      'rate-limiting',
      'Rate limiting on every endpoint, strict on login (at most 30 per 15 min)',
      perMinute(config.rateLimits.login) <= 2 && perMinute(config.rateLimits.global) <= 200,
      `login ${config.rateLimits.login.max}/${minutes(config.rateLimits.login.windowMs)} min, global ${config.rateLimits.global.max}/${minutes(config.rateLimits.global.windowMs)} min`,
    ),
    r(
      'password-policy',
      'Passwords of 12+ characters with upper, lower, number and special character; breached list; no reuse of the last 3',
      p.minLength >= 12 && p.requireUppercase && p.requireLowercase && p.requireNumber && p.requireSpecial,
      `min ${p.minLength}, upper ${p.requireUppercase}, lower ${p.requireLowercase}, number ${p.requireNumber}, special ${p.requireSpecial}`,
    ),
    r(
      'cookies',
      'Refresh cookie httpOnly, Secure and SameSite strict or lax',
      config.cookies.secure && config.cookies.sameSite !== 'none',
      `Secure=${config.cookies.secure}, SameSite=${config.cookies.sameSite}`,
    ),
    r(
      'cors',
      'CORS limited to an allow-list of production origins',
      !config.cors.allowedOrigins.some((o) => o === '*' || o.startsWith('http://')),
      config.cors.allowedOrigins.length ? config.cors.allowedOrigins.join(', ') : 'same origin only',
    ),
    r(
      'csp',
      "Content-Security-Policy without 'unsafe-inline', 'unsafe-eval' or wildcards",
      unsafeCsp.length === 0,
      unsafeCsp.length ? `unsafe: ${unsafeCsp.join(' ')}` : 'strict',
    ),
    r(
      'session-timeouts',
      'Sessions end after 60 idle minutes and 24 hours at most',
      config.sessions.inactivityMs <= 60 * 60_000 && config.sessions.absoluteMs <= 24 * 3_600_000,
      `idle ${minutes(config.sessions.inactivityMs)} min, absolute ${config.sessions.absoluteMs / 3_600_000} h`,
    ),
    r(
      'reauth',
      'Delete and export need a password entry within 15 minutes',
      config.reauth.forDelete && config.reauth.forExport && config.reauth.windowMs <= 15 * 60_000,
      `delete ${config.reauth.forDelete}, export ${config.reauth.forExport}, window ${minutes(config.reauth.windowMs)} min`,
    ),
    r(
      'security-logging',
      'Security event logging on, kept 90+ days',
      config.securityEvents.enabled && config.securityEvents.retentionDays >= 90,
      `enabled ${config.securityEvents.enabled}, retention ${config.securityEvents.retentionDays} days`,
    ),
    r(
      'alerts',
      'Alerts on lockout, repeated failures, geo anomaly and token theft reach a mailbox or webhook',
      alertsWired && alertRules.every(Boolean),
      alertsWired ? `rules on: ${alertRules.filter(Boolean).length}/4` : 'no ALERT_EMAIL_TO or ALERT_WEBHOOK_URL',
    ),
    r(
      'login-notifications',
      'Mail on login from a new device',
      config.detection.emailLoginNotifications,
      `ENABLE_EMAIL_LOGIN_NOTIFICATIONS=${config.detection.emailLoginNotifications}`,
    ),
    r(
      'database-tls',
      "Database connections use TLS that checks the server's certificate and name (verify-full)",
      config.database.sslMode === 'verify-full',
      `DB_SSL_MODE=${config.database.sslMode}`,
    ),
    r(
      'secrets-encryption',
      'A data encryption key from the environment encrypts TOTP secrets at rest',
      Boolean(env.DATA_ENCRYPTION_KEY),
      env.DATA_ENCRYPTION_KEY ? 'set' : 'not set (a development key was generated)',
    ),
    {
      ...r(
        'trust-proxy',
        'Behind a reverse proxy, TRUST_PROXY names it, so rate limits, allow-lists and events see the client IP',
        !config.isProduction || config.trustProxy !== undefined,
        config.trustProxy === undefined
          ? 'TRUST_PROXY unset: every request behind a proxy appears to come from the proxy (fine only without one)'
          : `TRUST_PROXY=${String(config.trustProxy)}`,
      ),
      warning: true,
    },
    {
      // Production refuses WEBHOOK_ALLOW_PRIVATE_TARGETS=true at start; elsewhere it is advice.
      ...r(
        'webhook-targets',
        'Webhooks cannot be pointed at loopback, private, link-local or metadata addresses (SSRF)',
        !config.webhooks.allowPrivateTargets,
        `WEBHOOK_ALLOW_PRIVATE_TARGETS=${config.webhooks.allowPrivateTargets}`,
      ),
      warning: true,
    },
  ];
}

function headerControls(headers: Headers): ControlResult[] {
  const csp = headers.get('content-security-policy') ?? '';
  const r = (id: string, control: string, pass: boolean, detail: string): ControlResult => ({
    id,
    control,
    pass,
    detail,
  });
  return [
    r(
      'http-csp',
      'Server sends a strict Content-Security-Policy',
      Boolean(csp) && !/unsafe-inline|unsafe-eval/.test(csp),
      csp ? csp.slice(0, 80) : 'missing',
    ),
    r(
      'http-hsts',
      'Server sends Strict-Transport-Security',
      /max-age=\d{6,}/.test(headers.get('strict-transport-security') ?? ''),
      headers.get('strict-transport-security') ?? 'missing',
    ),
    r(
      'http-nosniff',
      'Server sends X-Content-Type-Options: nosniff',
      headers.get('x-content-type-options') === 'nosniff',
      headers.get('x-content-type-options') ?? 'missing',
    ),
    r(
      'http-framing',
      'Server forbids framing (frame-ancestors / X-Frame-Options)',
      /frame-ancestors 'none'|frame-ancestors 'self'/.test(csp) ||
        /deny|sameorigin/i.test(headers.get('x-frame-options') ?? ''),
      headers.get('x-frame-options') ?? 'see CSP',
    ),
    r(
      'http-powered-by',
      'Server does not advertise its framework (no X-Powered-By)',
      !headers.has('x-powered-by'),
      headers.get('x-powered-by') ?? 'absent',
    ),
  ];
}

export interface ProbeOptions {
  url: string;
  email?: string;
  password?: string;
}

/** Controls read from a running server: headers, the login answer for an unknown account, the refresh cookie. */
export async function probeServer(options: ProbeOptions): Promise<ControlResult[]> {
  const base = options.url.replace(/\/+$/, '');
  const results: ControlResult[] = [];
  const health = await fetch(`${base}/health`);
  results.push(...headerControls(health.headers));

  const unknown = await fetch(`${base}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `nobody-${Date.now()}@security-check.invalid`, password: 'Not-The-Password-1!' }),
  });
  const body = (await unknown.json().catch(() => ({}))) as { error?: { code?: string } };
  results.push({
    id: 'http-no-enumeration',
    control: 'Login does not reveal whether an account exists',
    pass: unknown.status === 401 && body.error?.code === 'INVALID_CREDENTIALS',
    detail: `${unknown.status} ${body.error?.code ?? ''}`.trim(),
  });
  results.push({
    id: 'http-rate-limit',
    control: 'API answers carry rate-limit headers',
    pass: unknown.headers.has('x-ratelimit-limit'),
    detail: unknown.headers.get('x-ratelimit-limit') ?? 'missing',
  });

  if (options.email && options.password) {
    const login = await fetch(`${base}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: options.email, password: options.password }),
    });
    const cookie = login.headers.getSetCookie().find((c) => c.startsWith('refresh_token=')) ?? '';
    results.push({
      id: 'http-refresh-cookie',
      control: 'Refresh cookie is HttpOnly, Secure, SameSite and scoped to /v1/auth',
      pass:
        /;\s*HttpOnly/i.test(cookie) &&
        /;\s*Secure/i.test(cookie) &&
        /;\s*SameSite=(Strict|Lax)/i.test(cookie) &&
        /;\s*Path=\/v1\/auth/i.test(cookie),
      detail: cookie
        ? cookie.replace(/^refresh_token=[^;]+/, 'refresh_token=…')
        : `no cookie (login answered ${login.status})`,
    });
  }
  return results;
}

export function score(results: ControlResult[]): number {
  const controls = results.filter((r) => !r.warning);
  if (controls.length === 0) return 0;
  return Math.round((controls.filter((r) => r.pass).length / controls.length) * 100) / 10;
}

export function formatReport(results: ControlResult[]): string {
  const verdict = (r: ControlResult) => (r.pass ? 'PASS' : r.warning ? 'WARN' : 'FAIL');
  const lines = results.map((r) => `${verdict(r)}  ${r.id.padEnd(22)} ${r.control} — ${r.detail}`);
  const controls = results.filter((r) => !r.warning);
  const failing = controls.filter((r) => !r.pass).map((r) => r.id);
  lines.push(
    '',
    `Score: ${score(results)}/10 (${controls.length - failing.length} of ${controls.length} controls pass)`,
  );
  if (failing.length) lines.push(`Failing: ${failing.join(', ')}`);
  return lines.join('\n');
}
