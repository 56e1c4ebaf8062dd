// First: tracing patches http, pg and fastify as they load (src/tracing.ts).
import { tracing } from './tracing';
import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/app-config';
import { EmbeddedPostgresError } from './database/embedded-postgres';
import { DataKeyMismatchError } from './modules/data-keys/key-state';

function say(level: 'info' | 'warn' | 'error', msg: string): void {
  process.stdout.write(JSON.stringify({ level, time: new Date().toISOString(), msg }) + '\n');
}

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Refusing to start: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  if (config.generatedSecrets.length) {
    say(
      'warn',
      `development secrets (${config.generatedSecrets.join(', ')}) were generated into ${config.dataDir}/dev-secrets.json; set them in the environment for production`,
    );
  }

  // The application graph loads only after the configuration is accepted: an unsafe configuration is refused
  // at once, and instrumentation set up from the config is in place before the modules it wraps are loaded.
  const { initErrorTracking } = await import('./common/observability/error-tracking');
  if (initErrorTracking(config, process.env, { tracing: tracing !== undefined }))
    say('info', 'error tracking: Sentry enabled');
  if (tracing) say('info', `tracing: OpenTelemetry spans to ${config.tracing.otlpEndpoint}`);
  const { resolveDatabase } = await import('./database/resolve-database');
  const { runMigrations } = await import('./database/migrate');
  const { checkDatabaseRole } = await import('./database/database-role');
  const { createApp } = await import('./app.factory');
  const { GracefulDrain } = await import('./common/http/graceful-drain');

  const db = await resolveDatabase(config, (m) => say('info', m));
  await runMigrations(config, db.migrationUrl, (m) => say('info', m));
  let app;
  try {
    await checkDatabaseRole(config, db.url, (m) => say('warn', m));
    app = await createApp(config, { databaseUrl: db.url, bufferLogs: true });
  } catch (err) {
    // A refusal (the API's database role, the data key check) stops the embedded database too.
    await db.stop().catch(() => undefined);
    throw err;
  }

  // SIGTERM/SIGINT: stop accepting, let in-flight requests finish, close the pool, then the embedded database.
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    say('info', `${signal} received: draining`);
    const force = setTimeout(() => process.exit(1), 20_000).unref();
    try {
      // Finish what is in flight and tell keep-alive clients to go, then close the server, the pool and the database.
      await app.get(GracefulDrain).drain();
      await app.close();
      await db.stop();
      await tracing?.shutdown();
    } finally {
      clearTimeout(force);
      say('info', 'stopped');
      process.exit(0);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  // Memory soak tests (test/reliability) ask over IPC for the heap after a full GC (needs --expose-gc).
  if (process.send && process.env.HEARTH_MEMORY_PROBE === '1') {
    process.on('message', (message) => {
      if (message !== 'memory') return;
      (globalThis as { gc?: () => void }).gc?.();
      const { heapUsed, rss } = process.memoryUsage();
      process.send!({ heapUsed, rss });
    });
  }

  await app.listen({ port: config.port, host: process.env.HOST ?? '0.0.0.0' });
  say('info', `Hearth CRM API listening on ${config.publicUrl} (docs at /docs)`);
}

bootstrap().catch((err) => {
  // Refusals that need the database (the data key check, the API's role) read like the configuration's.
  if (err instanceof DataKeyMismatchError || err instanceof ConfigError) {
    process.stderr.write(`Refusing to start: ${err.message}\n`);
    process.exit(1);
  }
  const message =
    err instanceof EmbeddedPostgresError
      ? err.message
      : err instanceof Error
        ? (err.stack ?? err.message)
        : String(err);
  process.stderr.write(`Failed to start: ${message}\n`);
  process.exit(1);
});
