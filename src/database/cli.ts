/*
 * Migration commands: `npm run migration:run | migration:revert | migration:create -- <Name>`.
 * Migrations are written by hand: the schema has generated columns, trigram indexes, triggers and row-level
 * security policies that TypeORM's entity diff does not know, so a generated migration would drop them.
 */
import { DataSource } from 'typeorm';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../config/app-config';
import { MIGRATIONS } from '../../migrations';
import { dataSourceOptions } from './data-source-options';
import { resolveDatabase } from './resolve-database';
import { runMigrations } from './migrate';

/** An empty, named, timestamped migration for the developer to fill in and register in migrations/index.ts. */
function createMigration(name: string | undefined): void {
  if (!name || !/^[A-Za-z][A-Za-z0-9]*$/.test(name))
    throw new Error('usage: npm run migration:create -- <PascalCaseName>');
  const ts = Date.now();
  const file = join(
    process.cwd(),
    'migrations',
    `${ts}-${name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}.ts`,
  );
  writeFileSync(
    file,
    `import { type MigrationInterface, type QueryRunner } from 'typeorm';\n\nexport class ${name}${ts} implements MigrationInterface {\n  name = '${name}${ts}';\n\n  async up(q: QueryRunner): Promise<void> {\n    await q.query(\`\`);\n  }\n\n  async down(q: QueryRunner): Promise<void> {\n    await q.query(\`\`);\n  }\n}\n`,
    { flag: 'wx' },
  );
  console.log(`wrote ${file}; write its SQL and add it to migrations/index.ts`);
}

async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  if (command === 'migration:create') return createMigration(name);
  const config = loadConfig();
  const db = await resolveDatabase(config, (m) => console.log(m));
  try {
    if (command === 'migration:run') {
      const applied = await runMigrations(config, db.migrationUrl, (m) => console.log(m));
      console.log(applied.length ? `${applied.length} migration(s) applied` : 'database is up to date');
    } else if (command === 'migration:revert') {
      const ds = new DataSource({ ...dataSourceOptions(config, db.migrationUrl), migrations: MIGRATIONS });
      await ds.initialize();
      await ds.undoLastMigration({ transaction: 'each' });
      await ds.destroy();
    } else {
      throw new Error('usage: cli.js migration:run | migration:revert | migration:create <Name>');
    }
  } finally {
    await db.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
