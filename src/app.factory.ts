import 'reflect-metadata';
import { ModulesContainer, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import helmet from 'helmet';
import type { FastifyReply } from 'fastify';
import { Logger } from 'nestjs-pino';
import { type AppConfig } from './config/app-config';
import { type Clock } from './common/time/clock';
import { AppModule } from './app.module';
import { createValidationPipe } from './common/http/validation';
import { setupOpenApi } from './openapi';
import { GracefulDrain } from './common/http/graceful-drain';
import { AppException } from './common/http/app.exception';
import { mapError } from './common/http/error-mapping';
import { clientIp } from './common/security/request-context';
import { RequestGate, tagRouteTargets } from './common/security/request-gate';
import {
  LongUploadRoutes,
  closeAfterAnswer,
  installRequestDeadlines,
  serverTimeoutOptions,
} from './common/http/request-timeouts';
import { IpBlocklistService } from './modules/honeypot/ip-blocklist.service';
import { SCANNER_DECOYS } from './modules/honeypot/honeypot.controller';
import { Metrics } from './common/metrics/metrics';
import { instrumentRequests } from './common/metrics/metrics.module';

export const BODY_LIMIT_BYTES = 1024 * 1024;

export interface CreateAppOptions {
  databaseUrl: string;
  /** Buffer Nest's own start-up logs (quiet tests). */
  bufferLogs?: boolean;
  /** The time source for time-dependent rules (tests pass a ManualClock). */
  clock?: Clock;
}

/** Builds the fully configured application (not yet listening); used by main.ts and the e2e tests. */
export async function createApp(config: AppConfig, options: CreateAppOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.trustProxy ?? false,
    // __proto__ / constructor keys in JSON are refused outright instead of being stripped silently.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200 },
    // Slow clients are cut: REQUEST_TIMEOUT_MS / IMPORT_TIMEOUT_MS (see request-timeouts.ts).
    ...serverTimeoutOptions(config.requestTimeouts),
    // Errors Fastify's router raises itself (a malformed percent-encoding in the URL) get the envelope too.
    frameworkErrors: ((_error: Error, _request: unknown, reply: FastifyReply) => {
      void reply.code(400).send(mapError(AppException.validation('Malformed URL')).body);
    }) as never,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ config, databaseUrl: options.databaseUrl, clock: options.clock }),
    adapter,
    {
      bufferLogs: options.bufferLogs ?? true,
      abortOnError: false,
    },
  );
  app.useLogger(app.get(Logger));
  const fastify = app.getHttpAdapter().getInstance();
  // The deadline for head and body starts first, before any other work on the request.
  const longUploads = app.get(LongUploadRoutes);
  installRequestDeadlines(fastify, config.requestTimeouts, (request) => longUploads.matches(request));
  // Errors Fastify raises before routing (body too large, malformed JSON) reach AllExceptionsFilter through
  // Nest's own Fastify error handler, so they get the same envelope (covered by the foundation e2e test).
  app.get(GracefulDrain).install(fastify);
  // With METRICS_PORT: the request histogram (the figures are served on their own listener, MetricsServer).
  if (config.metrics.port !== undefined) instrumentRequests(fastify, app.get(Metrics));

  // Blocklisted IPs are refused before routing, parsing or any other work.
  const blocklist = app.get(IpBlocklistService);
  const blocked = mapError(new AppException('IP_BLOCKED', 'Requests from your address are blocked'));
  fastify.addHook('onRequest', async (request, reply) => {
    if (!blocklist.isBlocked(clientIp(request))) return;
    closeAfterAnswer(request, reply);
    return reply.code(blocked.status).send(blocked.body);
  });
  // Every route's guards run from the head, before its body is read (request-gate.ts). The routes are
  // tagged with their controller method before app.init() registers them.
  tagRouteTargets(app.get(ModulesContainer));
  app.get(RequestGate).install(fastify);

  await app.register(fastifyCookie as never);
  // helmet's middleware built once: @fastify/helmet rebuilt it (re-parsing the CSP) on every request.
  const secureHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: config.csp.defaultSrc,
        scriptSrc: config.csp.scriptSrc,
        styleSrc: config.csp.styleSrc,
        imgSrc: config.csp.imgSrc,
        connectSrc: config.csp.connectSrc,
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        // Upgrading to https only makes sense where https is served: in development over plain HTTP on a
        // LAN address it would break /console and /docs.
        upgradeInsecureRequests: config.isProduction ? [] : null,
      },
    },
    hsts: { maxAge: 63_072_000, includeSubDomains: true, preload: true },
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    frameguard: { action: 'deny' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) =>
      secureHeaders(request.raw, reply.raw, (err) => done(err as Error | undefined)),
    );
  app.enableCors({
    origin: config.cors.allowedOrigins.length ? config.cors.allowedOrigins : false,
    credentials: config.cors.allowCredentials,
    methods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-API-Key', 'X-Request-Id', 'Idempotency-Key', 'If-Match'],
    exposedHeaders: [
      'Retry-After',
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'Content-Disposition',
      'ETag',
      'Idempotent-Replayed',
    ],
    maxAge: 600,
  });
  app.setGlobalPrefix('v1', {
    exclude: ['health', 'health/ready', 'console', 'console/{*path}', ...SCANNER_DECOYS.map((p) => p.slice(1))],
  });
  app.useGlobalPipes(createValidationPipe());
  // No enableShutdownHooks(): main.ts owns SIGTERM/SIGINT (drain HTTP, then the pool, then the embedded
  // database); Nest's hook would re-raise the signal and kill the process mid-drain.
  setupOpenApi(app);
  try {
    await app.init();
  } catch (err) {
    // A refusal at start-up (the data key check) leaves no pool or timer behind.
    await app.close().catch(() => undefined);
    throw err;
  }
  return app;
}
