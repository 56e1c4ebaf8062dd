import { type AppConfig } from '../config/app-config';
import { startEmbeddedPostgres } from './embedded-postgres';

export interface ResolvedDatabase {
  /** What the API connects with (DATABASE_URL): a least-privilege role. */
  url: string;
  /** What migrations run with (DATABASE_MIGRATION_URL, default DATABASE_URL): the schema owner. */
  migrationUrl: string;
  embedded: boolean;
  stop(): Promise<void>;
}

/** DATABASE_URL (and DATABASE_MIGRATION_URL) when set; otherwise a real PostgreSQL embedded under DATA_DIR. */
export async function resolveDatabase(config: AppConfig, log: (m: string) => void): Promise<ResolvedDatabase> {
  if (config.database.url)
    return {
      url: config.database.url,
      migrationUrl: config.database.migrationUrl ?? config.database.url,
      embedded: false,
      stop: () => Promise.resolve(),
    };
  const started = Date.now();
  const db = await startEmbeddedPostgres({
    dataDir: config.dataDir,
    port: config.database.embeddedPort,
    database: 'hearth',
    log: () => undefined,
  });
  log(`embedded PostgreSQL ready on 127.0.0.1:${db.port} in ${Date.now() - started} ms (data in ${config.dataDir}/pg)`);
  return { url: db.apiUrl, migrationUrl: db.url, embedded: true, stop: () => db.stop() };
}
