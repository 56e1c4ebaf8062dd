/*
 * Imported first by main.ts, before anything that loads http, pg or fastify: OpenTelemetry's instrumentations
 * patch those modules as they are required, so tracing must start before they are. With
 * OTEL_EXPORTER_OTLP_ENDPOINT unset this does nothing and loads nothing.
 */
import { loadTracingConfig } from './config/app-config';
import { type Tracing, startTracing } from './common/observability/tracing';

function fromEnvironment(): Tracing | undefined {
  let config;
  try {
    config = loadTracingConfig(process.env);
  } catch {
    // main.ts validates the whole configuration next and refuses to start, naming the variable.
    return undefined;
  }
  return config.otlpEndpoint ? startTracing(config) : undefined;
}

export const tracing = fromEnvironment();
