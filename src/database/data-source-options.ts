import { readFileSync } from 'node:fs';
import { type DataSourceOptions } from 'typeorm';
import { SnakeNamingStrategy } from 'typeorm-naming-strategies';
import { type AppConfig } from '../config/app-config';

/** The TLS options node-postgres takes (a subset of Node's, assignable to both pg's and TypeORM's types). */
export interface DatabaseTls {
  rejectUnauthorized: boolean;
  ca?: string;
}

/**
 * TLS to Postgres by DB_SSL_MODE: `require` encrypts but accepts any certificate; `verify-full` checks the chain
 * (against DB_SSL_CA when set, else Node's CAs) and the host name (Node's checkServerIdentity: the URL's host
 * must be in the certificate's SAN).
 */
export function databaseSsl(config: AppConfig): false | DatabaseTls {
  const { sslMode, sslCaFile } = config.database;
  if (sslMode === 'disable') return false;
  if (sslMode === 'require') return { rejectUnauthorized: false };
  return { rejectUnauthorized: true, ...(sslCaFile ? { ca: readFileSync(sslCaFile, 'utf8') } : {}) };
}

/**
 * One definition of how we talk to Postgres, shared by the app, the migration CLI and the tests. Without the
 * migrations: the running app never loads them; the runner (migrate.ts) and the CLI add them.
 */
export function dataSourceOptions(config: AppConfig, url: string): DataSourceOptions {
  const ssl = databaseSsl(config);
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
