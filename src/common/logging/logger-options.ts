import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { trace } from '@opentelemetry/api';
import { type AppConfig } from '../../config/app-config';

/** Paths pino replaces with [Redacted]: credentials in headers, secrets in any logged object. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  '*.refreshToken',
  '*.accessToken',
  '*.otp',
  '*.code',
  '*.secret',
  '*.key',
  '*.backupCodes',
];

/** The active span's ids on each log line (OpenTelemetry's log-correlation field names), when there is one. */
export function traceIds(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  return { trace_id: traceId, span_id: spanId, trace_flags: traceFlags.toString(16).padStart(2, '0') };
}

export function loggerOptions(config: AppConfig): Params {
  return {
    // path-to-regexp 8 syntax for "every route" (the default '*' draws a deprecation warning per prefix).
    forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
    pinoHttp: {
      level: config.logLevel,
      // With tracing on, every line written while a span is active (the request's, a job's) names its trace.
      ...(config.tracing.otlpEndpoint ? { mixin: traceIds } : {}),
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      genReqId: (req: IncomingMessage) => {
        const given = req.headers['x-request-id'];
        return typeof given === 'string' && /^[\w-]{1,64}$/.test(given) ? given : randomUUID();
      },
      autoLogging: { ignore: (req: IncomingMessage) => (req.url ?? '').startsWith('/health') },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      serializers: {
        // Paths only: query strings can carry tokens (reset links).
        req: (req: { id: string; method: string; url: string; headers: Record<string, unknown> }) => ({
          id: req.id,
          method: req.method,
          url: String(req.url).split('?')[0],
          headers: req.headers,
        }),
      },
    },
  };
}
