import type { AppConfig } from '../../config/app-config';

type Sentry = { init(options: Record<string, unknown>): void; captureException(err: unknown): void };
let sentry: Sentry | undefined;

/**
 * Sentry's NestJS SDK when SENTRY_DSN is set; with no DSN the SDK is never even loaded. With our OpenTelemetry
 * tracing on, Sentry leaves the OpenTelemetry setup alone (it only reports errors: tracesSampleRate 0).
 */
export function initErrorTracking(
  config: AppConfig,
  env: Record<string, string | undefined> = process.env,
  options: { tracing?: boolean } = {},
): boolean {
  if (!config.sentryDsn) return false;
  sentry = require('@sentry/nestjs') as Sentry;
  sentry.init({
    dsn: config.sentryDsn,
    environment: env.SENTRY_ENVIRONMENT ?? config.env,
    tracesSampleRate: 0,
    sendDefaultPii: false,
    ...(options.tracing ? { skipOpenTelemetrySetup: true } : {}),
  });
  return true;
}

/** Unexpected errors (5xx) only; a no-op unless error tracking was initialised. */
export function reportError(err: unknown): void {
  sentry?.captureException(err);
}
