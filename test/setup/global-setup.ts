import { freePort } from '../../src/common/net/free-port';
import { rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../../src/config/app-config';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { runMigrations } from '../../src/database/migrate';
import { TEST_DATA_DIR, TEST_STATE_FILE, TEMPLATE_DB } from './paths';

/** One embedded Postgres for the whole run; a template database migrated once and cloned per test file. */
export default async function globalSetup(): Promise<void> {
  // Each Jest project (e2e, reliability) names this setup; the first one starts the server for all.
  if ((globalThis as Record<string, unknown>).__HEARTH_TEST_DB__) return;
  rmSync(TEST_DATA_DIR, { recursive: true, force: true });
  mkdirSync(TEST_DATA_DIR, { recursive: true });
  const port = await freePort();
  const db = await startEmbeddedPostgres({ dataDir: TEST_DATA_DIR, port, database: TEMPLATE_DB, ephemeral: true });
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: join(TEST_DATA_DIR, 'app'), DATABASE_URL: db.url });
  await runMigrations(config, db.url);
  const admin = new Client({ connectionString: db.adminUrl });
  await admin.connect();
  await admin.query(`ALTER DATABASE ${TEMPLATE_DB} WITH IS_TEMPLATE true`);
  await admin.end();
  (globalThis as Record<string, unknown>).__HEARTH_TEST_DB__ = db;
  // The app under test connects as the API's login role (db.apiUrl, member of app_api); seeding stays owner.
  const apiUrl = db.apiUrl.replace(/\/[^/]*$/, '/postgres');
  writeFileSync(TEST_STATE_FILE, JSON.stringify({ adminUrl: db.adminUrl, apiUrl, port }));
  process.env.HEARTH_TEST_PG_ADMIN_URL = db.adminUrl;
  process.env.HEARTH_TEST_PG_API_URL = apiUrl;
}
