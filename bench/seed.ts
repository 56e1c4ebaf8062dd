/*
 * Bulk fixture data for benchmarks: `npm run bench:seed [-- --teams 10 --clients 100000]` fills 100k clients
 * over 10 teams (one INSERT … SELECT generate_series per run, not row by row) and prints the elapsed time.
 * Runs against DATABASE_URL, or the embedded database under DATA_DIR (migrated first). Each team gets an
 * admin `bench-<run>-<n>@bench.local` with password BENCH_PASSWORD (default below), printed at the end.
 *
 * Bulk fixtures bypass the API, so they have no audit rows (the audit trail records changes made through it).
 */
import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig } from '../src/config/app-config';
import { runMigrations } from '../src/database/migrate';
import { resolveDatabase } from '../src/database/resolve-database';
import { ARGON2_OPTIONS } from '../src/modules/passwords/password-hasher.service';

export type SeedQuery = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

export interface SeedOptions {
  teams: number;
  /** Total clients, spread evenly over the teams. */
  clients: number;
  password?: string;
}

export interface SeedResult {
  teamIds: string[];
  emails: string[];
  password: string;
  clients: number;
  elapsedMs: number;
}

/**
 * 100 surnames, each on 1 % of the rows (followed by the row number): a search for one of them ("smith") is a
 * common-surname search, "smith 4242" a rare one.
 */
export const SURNAMES = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Dijkstra',
  'Liskov',
  'Thompson',
  'Hamilton',
  'Knuth',
  'Allen',
  'Torvalds',
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Perez',
  'White',
  'Harris',
  'Sanchez',
  'Clark',
  'Ramirez',
  'Lewis',
  'Robinson',
  'Walker',
  'Young',
  'Hall',
  'Wright',
  'King',
  'Scott',
  'Green',
  'Baker',
  'Adams',
  'Nelson',
  'Hill',
  'Campbell',
  'Mitchell',
  'Roberts',
  'Carter',
  'Phillips',
  'Evans',
  'Turner',
  'Torres',
  'Parker',
  'Collins',
  'Edwards',
  'Stewart',
  'Flores',
  'Morris',
  'Nguyen',
  'Murphy',
  'Rivera',
  'Cook',
  'Rogers',
  'Morgan',
  'Peterson',
  'Cooper',
  'Reed',
  'Bailey',
  'Bell',
  'Gomez',
  'Kelly',
  'Howard',
  'Ward',
  'Cox',
  'Diaz',
  'Richardson',
  'Wood',
  'Watson',
  'Brooks',
  'Bennett',
  'Gray',
  'James',
  'Reyes',
  'Cruz',
  'Hughes',
  'Price',
  'Myers',
  'Long',
  'Foster',
  'Sanders',
  'Ross',
  'Morales',
  'Powell',
  'Sullivan',
];

export const DEFAULT_BENCH_PASSWORD = 'Bench-Hearth-2024!x';

export async function seedClients(query: SeedQuery, options: SeedOptions): Promise<SeedResult> {
  const started = Date.now();
  const password = options.password ?? DEFAULT_BENCH_PASSWORD;
  const run = randomBytes(3).toString('hex');
  const perTeam = Math.ceil(options.clients / options.teams);
  const hash = await argon2.hash(password, ARGON2_OPTIONS);

  const teams = await query(
    `INSERT INTO teams (name) SELECT 'Bench team ' || $1 || '-' || n FROM generate_series(1, $2::int) AS n RETURNING id`,
    [run, options.teams],
  );
  const teamIds = teams.map((t) => String(t.id));
  const emails = teamIds.map((_, i) => `bench-${run}-${i + 1}@bench.local`);
  await query(
    `INSERT INTO users (team_id, email, password_hash, first_name, last_name, role, password_changed_at)
     SELECT t.id, e.email, $3, 'Bench', 'Admin ' || e.n, 'admin', now()
       FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)
       JOIN unnest($2::text[]) WITH ORDINALITY AS e(email, n) ON e.n = t.n`,
    [teamIds, emails, hash],
  );
  // One statement for every row: newest first by created_at, so the list's default order is exercised.
  await query(
    `INSERT INTO clients (team_id, first_name, last_name, email, phone, client_type, status, address, created_at, updated_at)
     SELECT t.id,
            (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Ken','Margaret','Donald','Frances','Linus'])[1 + g % 10],
            ($3::text[])[1 + (g / 10) % 100] || ' ' || g,
            'client' || g || '@example.com',
            '+1 555 ' || lpad((g % 10000)::text, 4, '0'),
            (ARRAY['buyer','seller','both','investor','renter'])[1 + g % 5],
            (ARRAY['active','active','active','inactive','archived'])[1 + (g / 5) % 5],
            g || ' Main Street',
            now() - make_interval(secs => g),
            now() - make_interval(secs => g)
       FROM unnest($1::uuid[]) AS t(id)
      CROSS JOIN generate_series(1, $2::int) AS g`,
    [teamIds, perTeam, SURNAMES],
  );
  await query('ANALYZE clients');
  return { teamIds, emails, password, clients: perTeam * teamIds.length, elapsedMs: Date.now() - started };
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : undefined;
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
  return value;
}

async function main(): Promise<void> {
  const teams = argValue('teams', 10);
  const clients = argValue('clients', 100_000);
  const config = loadConfig();
  const db = await resolveDatabase(config, (m) => console.log(m));
  try {
    await runMigrations(config, db.url, (m) => console.log(m));
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const result = await seedClients(
        async (sql, params) => (await client.query<Record<string, unknown>>(sql, params)).rows,
        {
          teams,
          clients,
          password: process.env.BENCH_PASSWORD || undefined,
        },
      );
      console.log(
        `seeded ${result.clients} clients over ${result.teamIds.length} teams in ${(result.elapsedMs / 1000).toFixed(1)} s`,
      );
      console.log(
        `sign in as ${result.emails[0]} … ${result.emails[result.emails.length - 1]} with password ${result.password}`,
      );
    } finally {
      await client.end();
    }
  } finally {
    await db.stop();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`bench:seed failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
