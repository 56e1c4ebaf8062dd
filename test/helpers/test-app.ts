import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { type AppConfig, loadConfig } from '../../src/config/app-config';
import { createApp } from '../../src/app.factory';
import { type Clock } from '../../src/common/time/clock';
import { TEMPLATE_DB, TEST_DATA_DIR, TEST_STATE_FILE } from '../setup/paths';
import { HttpClient } from './http';

export interface TestDatabase {
  name: string;
  /** The schema owner (the test cluster's superuser): for seeding, inspecting and dumps in tests. */
  url: string;
  /** The API's least-privilege login (member of app_api): what the app under test connects with. */
  apiUrl: string;
  adminUrl: string;
  drop(): Promise<void>;
}

function testState(): { adminUrl: string; apiUrl: string } {
  const { HEARTH_TEST_PG_ADMIN_URL: adminUrl, HEARTH_TEST_PG_API_URL: apiUrl } = process.env;
  if (adminUrl && apiUrl) return { adminUrl, apiUrl };
  return JSON.parse(readFileSync(TEST_STATE_FILE, 'utf8')) as { adminUrl: string; apiUrl: string };
}

/** A fresh database cloned from the migrated template (about 50 ms). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const { adminUrl: admin, apiUrl } = testState();
  const name = `t_${randomBytes(6).toString('hex')}`;
  const client = new Client({ connectionString: admin });
  await client.connect();
  for (let attempt = 0; ; attempt++) {
    try {
      await client.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
      break;
    } catch (err) {
      // Two files cloning at the same instant: "source database is being accessed by other users".
      if (attempt > 20 || !/being accessed/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  await client.end();
  const url = admin.replace(/\/postgres$/, `/${name}`);
  return {
    name,
    url,
    apiUrl: apiUrl.replace(/\/postgres$/, `/${name}`),
    adminUrl: admin,
    drop: async () => {
      const c = new Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await c.end();
    },
  };
}

export const TEST_JWT_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
export const TEST_ENCRYPTION_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  baseUrl: string;
  http: HttpClient;
  /**
   * A connection as the schema owner, for tests that seed or inspect past the API's privileges. The app itself
   * connects as the least-privilege API role: `appDataSource`.
   */
  dataSource: DataSource;
  /** The app's own DataSource (the API role, `database.apiUrl`). */
  appDataSource: DataSource;
  database: TestDatabase;
  dataDir: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Reuse a database (several instances on one database). */
  database?: TestDatabase;
  /** A ManualClock the test moves instead of sleeping. */
  clock?: Clock;
}

/** The real AppModule, listening on a loopback port, on its own database. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const dataDir = join(TEST_DATA_DIR, 'apps', `${database.name}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dataDir, { recursive: true });
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: TEST_JWT_SECRET,
    DATA_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    DATA_DIR: dataDir,
    // Tests hammer the API from one IP; the limits under test are set per file.
    RATE_LIMIT_GLOBAL_MAX: '100000',
    RATE_LIMIT_LOGIN_MAX: '100000',
    RATE_LIMIT_REGISTER_MAX: '100000',
    RATE_LIMIT_REFRESH_MAX: '100000',
    RATE_LIMIT_FORGOT_PASSWORD_MAX: '100000',
    RATE_LIMIT_HEALTH_MAX: '100000',
    ...options.env,
    DATABASE_URL: database.apiUrl,
    DATABASE_MIGRATION_URL: database.url,
  });
  const app = await createApp(config, { databaseUrl: database.apiUrl, clock: options.clock });
  // Named apart from the app's connections (test/database-roles.e2e-spec.ts lists those).
  const owner = new DataSource({
    ...dataSourceOptions(config, database.url),
    extra: { max: 3, application_name: 'hearth-test-owner' },
  });
  await owner.initialize();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  const baseUrl = `http://127.0.0.1:${address.port}`;
  let closed = false;
  return {
    app,
    config,
    baseUrl,
    http: new HttpClient(baseUrl),
    dataSource: owner,
    appDataSource: app.get<DataSource>(getDataSourceToken()),
    database,
    dataDir,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
      await owner.destroy();
      if (!options.database) await database.drop();
    },
  };
}
