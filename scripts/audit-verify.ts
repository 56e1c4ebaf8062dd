/*
 * Verifies every team's audit hash chain: `npm run audit:verify` (DATABASE_URL, or the embedded database
 * under DATA_DIR). Prints the first broken link of each team (team, seq, row id, reason) and exits 1 if there
 * is any, 0 when every chain is intact, 2 when it could not check.
 */
import { Client } from 'pg';
import { loadConfig } from '../src/config/app-config';
import { resolveDatabase } from '../src/database/resolve-database';
import { verifyAuditChains } from '../src/modules/audit/audit-verifier';
import { runScript } from './run-script';

async function main(): Promise<number> {
  const config = loadConfig();
  const db = await resolveDatabase(config, (m) => console.error(m));
  const client = new Client({
    connectionString: db.url,
    ssl:
      config.database.sslMode === 'disable' ? false : { rejectUnauthorized: config.database.sslMode === 'verify-full' },
  });
  await client.connect();
  try {
    const started = Date.now();
    const result = await verifyAuditChains(
      async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
    );
    const took = Date.now() - started;
    if (result.ok) {
      console.log(`audit chains intact: ${result.teams} team(s), ${result.rows} row(s) checked in ${took} ms`);
      return 0;
    }
    for (const b of result.broken) {
      console.log(`BROKEN team=${b.teamId} seq=${b.seq} row=${b.rowId ?? '-'} lane=${b.lane}: ${b.reason}`);
    }
    console.log(
      `${result.broken.length} broken chain(s) in ${result.teams} team(s) (${result.rows} row(s) checked in ${took} ms)`,
    );
    return 1;
  } finally {
    await client.end();
    await db.stop();
  }
}

runScript('audit:verify', main);
