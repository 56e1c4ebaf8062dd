import { type DataSourceOptions } from 'typeorm';
import { SnakeNamingStrategy } from 'typeorm-naming-strategies';
import { type AppConfig } from '../config/app-config';

/**
 * One definition of how we talk to Postgres, shared by the app, the migration CLI and the tests. Without the
 * migrations: the running app never loads them; the runner (migrate.ts) and the CLI add them.
 */
export function dataSourceOptions(config: AppConfig, url: string): DataSourceOptions {
  const ssl =
    config.database.sslMode === 'disable' ? false : { rejectUnauthorized: config.database.sslMode === 'verify-full' };
  return {
    type: 'postgres',
    url,
    ssl,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'migrations',
    namingStrategy: new SnakeNamingStrategy(),
    // Failed queries surface through the exception filter's log (with the request), not TypeORM's console logger.
    logging: false,
    extra: {
      min: config.database.poolMin,
      max: config.database.poolMax,
      statement_timeout: config.database.queryTimeoutMs,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      application_name: 'hearth-crm',
    },
  };
}
