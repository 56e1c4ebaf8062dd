import type { IncomingMessage } from 'node:http';
import type * as OtelApi from '@opentelemetry/api';
import type * as ContextAsyncHooks from '@opentelemetry/context-async-hooks';
import type * as OtelCore from '@opentelemetry/core';
import type * as OtelResources from '@opentelemetry/resources';
import type * as SdkTrace from '@opentelemetry/sdk-trace';
import type * as Instrumentation from '@opentelemetry/instrumentation';
import type * as HttpInstrumentationModule from '@opentelemetry/instrumentation-http';
import type * as PgInstrumentationModule from '@opentelemetry/instrumentation-pg';
import type * as FastifyOtel from '@fastify/otel';
import type * as OtlpHttpExporter from '@opentelemetry/exporter-trace-otlp-http';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { TracingConfig } from '../../config/app-config';
import { maskSqlLiterals } from './sql-text';

export interface Tracing {
  /** Exports what is still buffered and stops (main.ts calls it before the process exits). */
  shutdown(): Promise<void>;
}

export interface TracingOptions extends TracingConfig {
  /** Where spans go; the OTLP/HTTP exporter (reading the standard OTEL_EXPORTER_OTLP_* variables) by default. */
  exporter?: SpanExporter;
}

/** Incoming requests not traced: the metrics scrape and health probes arrive every few seconds and say nothing. */
export function untracedRequest(request: IncomingMessage): boolean {
  return /^\/(?:metrics|health)(?:[/?]|$)/.test(request.url ?? '');
}

/**
 * OpenTelemetry tracing: HTTP server and client spans (node:http, so outbound webhooks too), Fastify's request
 * span with the matched route, and a span per SQL statement (the statement text with its $n placeholders and
 * its literals masked, never the parameter values: enhancedDatabaseReporting stays off).
 *
 * Must run before http, pg and fastify are first required (src/tracing.ts, imported first by main.ts): the
 * instrumentations patch modules as they load. The SDK is required here, inside the function, so that with
 * tracing off none of it is loaded.
 */
export function startTracing(options: TracingOptions): Tracing {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when tracing is on */
  const api = require('@opentelemetry/api') as typeof OtelApi;
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks') as typeof ContextAsyncHooks;
  const { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } =
    require('@opentelemetry/core') as typeof OtelCore;
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof OtelResources;
  const { BatchSpanProcessor, ParentBasedSampler, AlwaysOnSampler, TracerProvider } =
    require('@opentelemetry/sdk-trace') as typeof SdkTrace;
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as typeof Instrumentation;
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof HttpInstrumentationModule;
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof PgInstrumentationModule;
  const { FastifyOtelInstrumentation } = require('@fastify/otel') as typeof FastifyOtel;
  const exporter =
    options.exporter ??
    new (require('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttpExporter).OTLPTraceExporter();
  /* eslint-enable @typescript-eslint/no-require-imports */

  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      ...(process.env.npm_package_version ? { 'service.version': process.env.npm_package_version } : {}),
    }),
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: options.exportDelayMs })],
  });
  const contextManager = new AsyncLocalStorageContextManager();
  api.context.setGlobalContextManager(contextManager.enable());
  api.propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  api.trace.setGlobalTracerProvider(provider);

  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: untracedRequest }),
      // Only statements inside a traced request or job: the dispatcher's one-second poll and the cache
      // listener's heartbeat would otherwise each start a trace of their own. No parameter values
      // (enhancedDatabaseReporting off), and no literals either: TeamScope.batch inlines its parameters.
      new PgInstrumentation({
        enhancedDatabaseReporting: false,
        requireParentSpan: true,
        requestHook: (span, { query }) => {
          if (query.text) span.setAttribute('db.query.text', maskSqlLiterals(query.text));
        },
      }),
      // Fastify's own instrumentation (the contrib @opentelemetry/instrumentation-fastify is deprecated and stops
      // at what Fastify 4 offered): it names the HTTP span after the matched route. Registered on every Fastify
      // instance as it is created (Nest creates ours), without a span per lifecycle hook.
      new FastifyOtelInstrumentation({ registerOnInitialization: true, instrumentHooks: false }),
    ],
  });

  return {
    shutdown: async () => {
      unregister();
      await provider.shutdown().catch(() => undefined);
      api.trace.disable();
      api.context.disable();
      api.propagation.disable();
    },
  };
}
