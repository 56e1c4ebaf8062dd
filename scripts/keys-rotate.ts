/*
 * Re-seals every secret at rest under the current data key:
 * `npm run keys:rotate [-- --batch-size N --limit N --renew-verifier-keys]`
 * (as the schema owner: DATABASE_MIGRATION_URL, default DATABASE_URL, or the embedded database under DATA_DIR;
 * DATA_ENCRYPTION_KEY the new key,
 * DATA_ENCRYPTION_KEY_PREVIOUS the old one(s)). Safe while the API runs (compare-and-swap per value) and
 * resumable (what carries the current key id is done). When nothing remains under another key, the database
 * records the current key alone and the previous keys may be removed. `--renew-verifier-keys` (suspected
 * compromise) also replaces the HMAC keys of keyed hashes, voiding every backup code. docs/data-keys.md.
 *
 * Exit: 0 done (previous keys may go), 3 stopped at --limit (run again), 1 values no configured key opens
 * (listed; nothing recorded), 2 could not run (e.g. DATA_ENCRYPTION_KEY does not fit the database).
 */
import { Client } from 'pg';
import { loadConfig } from '../src/config/app-config';
import { runningEmbeddedUrl } from '../src/database/embedded-postgres';
import { resolveDatabase } from '../src/database/resolve-database';
import { type InTransaction, type Sql, dataKeyRing } from '../src/modules/data-keys/key-state';
import { renewVerifierKeys, rotateDataKeys } from '../src/modules/data-keys/rotation';
import { runScript } from './run-script';

function option(name: string, fallback?: number): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} needs a positive whole number`);
  return value;
}

const VALUED = ['--batch-size', '--limit'];
const FLAGS = ['--renew-verifier-keys'];

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (VALUED.includes(args[i]!)) i++;
    else if (!FLAGS.includes(args[i]!))
      throw new Error(`unknown option ${args[i]} (options: ${[...VALUED, ...FLAGS].join(', ')})`);
  }
  const batchSize = option('batch-size', 500)!;
  const limit = option('limit');
  const config = loadConfig();
  // In development the API's embedded server may be running: use it (starting another would stop it).
  const running = config.database.url ? null : runningEmbeddedUrl(config.dataDir, 'hearth');
  const db = running
    ? { migrationUrl: running, stop: () => Promise.resolve() }
    : await resolveDatabase(config, (m) => console.error(m));
  // As the schema owner (DATABASE_MIGRATION_URL, default DATABASE_URL), like migrations: re-sealing touches every
  // team's rows, which the API's own least-privilege role may not reach outside a team's scope.
  const client = new Client({
    connectionString: db.migrationUrl,
    ssl:
      config.database.sslMode === 'disable' ? false : { rejectUnauthorized: config.database.sslMode === 'verify-full' },
  });
  await client.connect();
  const sql: Sql = async <T>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as T[];
  const transaction: InTransaction = async (work) => {
    await client.query('BEGIN');
    try {
      const result = await work(sql);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  };
  try {
    const ring = dataKeyRing(config.dataEncryptionKey, config.dataEncryptionKeysPrevious);
    const started = Date.now();
    if (process.argv.includes('--renew-verifier-keys')) {
      for (const r of await renewVerifierKeys(transaction, ring))
        console.log(`${r.purpose}: new HMAC key; ${r.deleted} digest(s) of ${r.owners} user(s) voided`);
    }
    const result = await rotateDataKeys(sql, transaction, ring, { batchSize, limit, log: (l) => console.log(l) });
    const took = Date.now() - started;
    for (const line of result.unreadable) console.log(`UNREADABLE ${line}`);
    console.log(
      `${result.resealed} value(s) re-sealed, ${result.skipped} changed meanwhile, ${result.unreadable.length} unreadable, ` +
        `${result.remaining} remaining, in ${took} ms`,
    );
    if (result.completed) {
      console.log(
        'rotation complete: every sealed value uses DATA_ENCRYPTION_KEY; DATA_ENCRYPTION_KEY_PREVIOUS may be removed',
      );
      return 0;
    }
    if (result.unreadable.length) {
      console.log('rotation NOT complete: the values above open with no configured key (see docs/data-keys.md)');
      return 1;
    }
    console.log('rotation not complete yet: run `npm run keys:rotate` again');
    return 3;
  } finally {
    await client.end();
    await db.stop();
  }
}

runScript('keys:rotate', main);
