import { DataSource } from 'typeorm';
import { type AppConfig } from '../config/app-config';
import { MIGRATIONS } from '../../migrations';
import { dataSourceOptions } from './data-source-options';

// Any constant works; it only has to be the same for every instance of the app.
const MIGRATION_LOCK = 7_243_110;

/** Runs pending migrations, serialised by an advisory lock so instances starting together take turns. */
export async function runMigrations(
  config: AppConfig,
  url: string,
  log: (m: string) => void = () => undefined,
): Promise<string[]> {
  const ds = new DataSource({ ...dataSourceOptions(config, url), migrations: MIGRATIONS, extra: { max: 2 } });
  await ds.initialize();
  const lock = ds.createQueryRunner();
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await ds.runMigrations({ transaction: 'each' });
    for (const m of applied) log(`migration applied: ${m.name}`);
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    return applied.map((m) => m.name);
  } finally {
    await lock.release();
    await ds.destroy();
  }
}
