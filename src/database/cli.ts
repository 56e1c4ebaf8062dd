/* Migration commands: `npm run migration:run | migration:revert | migration:generate -- <Name>`. */
import { DataSource } from 'typeorm';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';
import { resolveDatabase } from './resolve-database';
import { runMigrations } from './migrate';

async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  const config = loadConfig();
  const db = await resolveDatabase(config, (m) => console.log(m));
  try {
    if (command === 'migration:run') {
      const applied = await runMigrations(config, db.url, (m) => console.log(m));
      console.log(applied.length ? `${applied.length} migration(s) applied` : 'database is up to date');
    } else if (command === 'migration:revert') {
      const ds = new DataSource(dataSourceOptions(config, db.url));
      await ds.initialize();
      await ds.undoLastMigration({ transaction: 'each' });
      await ds.destroy();
    } else if (command === 'migration:generate') {
      if (!name) throw new Error('usage: npm run migration:generate -- <Name>');
      const ds = new DataSource({
        ...dataSourceOptions(config, db.url),
        entities: [join(__dirname, '..', '**', '*.entity.js')],
      });
      await ds.initialize();
      const sql = await ds.driver.createSchemaBuilder().log();
      await ds.destroy();
      if (sql.upQueries.length === 0) {
        console.log('no schema changes between the entities and the database');
      } else {
        const ts = Date.now();
        const body = sql.upQueries.map((u) => `    await q.query(${JSON.stringify(u.query)});`).join('\n');
        const down = sql.downQueries
          .reverse()
          .map((d) => `    await q.query(${JSON.stringify(d.query)});`)
          .join('\n');
        const file = join(process.cwd(), 'migrations', `${ts}-${name}.ts`);
        writeFileSync(
          file,
          `import { MigrationInterface, QueryRunner } from 'typeorm';\n\nexport class ${name}${ts} implements MigrationInterface {\n  name = '${name}${ts}';\n\n  async up(q: QueryRunner): Promise<void> {\n${body}\n  }\n\n  async down(q: QueryRunner): Promise<void> {\n${down}\n  }\n}\n`,
        );
        console.log(`wrote ${file}; add it to migrations/index.ts`);
      }
    } else {
      throw new Error('usage: cli.js migration:run | migration:revert | migration:generate <Name>');
    }
  } finally {
    await db.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
