/*
 * Benchmark suites for features that other parts of the product add: each one first checks that its feature is
 * there (schema or route) and otherwise returns why it was skipped, so the bench runs on any revision. A new
 * suite: write a `prepare` that seeds what it needs and returns a Suite (bench/harness.ts), then list it in
 * OPTIONAL_SUITES.
 */
import { SURNAMES, type SeedQuery, seedClients } from './seed';
import type { Suite } from './harness';

export interface BenchContext {
  api: string;
  query: SeedQuery;
  password: string;
  /** Signs in and returns the access token. */
  login(email: string): Promise<string>;
  /** A request's status and parsed body (no throw on 4xx). */
  call(
    path: string,
    init?: { method?: string; body?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: { data?: unknown; error?: { code: string } } }>;
  log(line: string): void;
}

export interface OptionalSuite {
  name: string;
  /** The suite, or the reason it cannot run on this revision. */
  prepare(ctx: BenchContext): Promise<Suite | string>;
}

const hasColumn = async (ctx: BenchContext, table: string, column: string) =>
  (
    await ctx.query(`SELECT 1 FROM information_schema.columns WHERE table_name = $1 AND column_name = $2`, [
      table,
      column,
    ])
  ).length > 0;

/** "My leads" for an agent under `assigned` visibility (RLS hides the rest) vs an admin's list of the same team. */
const myLeads: OptionalSuite = {
  name: 'my leads (assigned visibility)',
  async prepare(ctx) {
    if (!(await hasColumn(ctx, 'leads', 'assigned_to')) || !(await hasColumn(ctx, 'teams', 'agent_visibility')))
      return 'leads.assigned_to / teams.agent_visibility are not in the schema';
    const seeded = await seedClients(ctx.query, { teams: 1, clients: 1, password: ctx.password });
    const teamId = seeded.teamIds[0]!;
    const [admin] = await ctx.query(`SELECT password_hash FROM users WHERE email = $1`, [seeded.emails[0]]);
    const agents = Array.from({ length: 10 }, (_, i) => `${seeded.emails[0]!.replace('@', `-agent${i}@`)}`);
    await ctx.query(
      `INSERT INTO users (team_id, email, password_hash, first_name, last_name, role, password_changed_at)
       SELECT $1, e, $2, 'Bench', 'Agent', 'agent', now() FROM unnest($3::text[]) AS e`,
      [teamId, admin?.password_hash, agents],
    );
    // 100k leads, assigned round-robin to the ten agents (10k each), newest first like the clients.
    await ctx.query(
      `INSERT INTO leads (team_id, first_name, last_name, email, assigned_to, created_at, updated_at)
       SELECT $1, 'Lead', ($3::text[])[1 + (g / 10) % 100] || ' ' || g, 'lead' || g || '@example.com',
              (SELECT id FROM users WHERE email = ($2::text[])[1 + g % 10]),
              now() - make_interval(secs => g), now() - make_interval(secs => g)
         FROM generate_series(1, 100000) AS g`,
      [teamId, agents, SURNAMES],
    );
    await ctx.query(`UPDATE teams SET agent_visibility = 'assigned' WHERE id = $1`, [teamId]);
    await ctx.query('VACUUM (ANALYZE) leads');
    const adminToken = await ctx.login(seeded.emails[0]!);
    const agentToken = await ctx.login(agents[0]!);
    const mine = await ctx.call('/v1/leads?limit=50', { headers: { authorization: `Bearer ${agentToken}` } });
    const rows = (mine.body.data as unknown[] | undefined)?.length ?? 0;
    if (mine.status !== 200 || rows !== 50) return `an agent's lead list answered ${mine.status} with ${rows} rows`;
    return {
      title: 'my leads: team of 100k leads, 10 agents, agentVisibility=assigned',
      scenarios: [
        {
          name: 'api: leads list 50, admin',
          opts: { url: `${ctx.api}/v1/leads?limit=50`, headers: { authorization: `Bearer ${adminToken}` } },
        },
        {
          name: 'api: my leads 50, agent (assigned)',
          opts: { url: `${ctx.api}/v1/leads?limit=50`, headers: { authorization: `Bearer ${agentToken}` } },
        },
        {
          name: 'api: my leads 50, agent, assignedTo=me',
          opts: {
            url: `${ctx.api}/v1/leads?limit=50&assignedTo=me`,
            headers: { authorization: `Bearer ${agentToken}` },
          },
        },
      ],
      ratios: [
        {
          label: 'my leads (agent) / leads list (admin)',
          a: 'api: my leads 50, agent (assigned)',
          b: 'api: leads list 50, admin',
          target: '≥ 0.7',
        },
        {
          label: 'my leads assignedTo=me / leads list (admin)',
          a: 'api: my leads 50, agent, assignedTo=me',
          b: 'api: leads list 50, admin',
          target: '≥ 0.7',
        },
      ],
    };
  },
};

/** A client's timeline (activities, appointments, tasks, changes) with 1,000 entries, first page. */
const timeline: OptionalSuite = {
  name: 'timeline',
  async prepare(ctx) {
    const seeded = await seedClients(ctx.query, { teams: 1, clients: 1000, password: ctx.password });
    const token = await ctx.login(seeded.emails[0]!);
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = await ctx.call('/v1/clients', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ firstName: 'Time', lastName: 'Line' }),
    });
    const clientId = (created.body.data as { id: string }).id;
    const probe = await ctx.call(`/v1/clients/${clientId}/timeline?limit=50`, { headers: auth });
    if (probe.status !== 200) return `GET /v1/clients/:id/timeline answered ${probe.status}`;
    // 1,000 entries through the API (eight at a time), so every kind of bookkeeping is real.
    let made = 0;
    const one = async (i: number) => {
      const r = await ctx.call('/v1/activities', {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ type: i % 2 ? 'call' : 'note', subject: `Entry ${i}`, clientId }),
      });
      if (r.status !== 201) throw new Error(`POST /v1/activities answered ${r.status}: ${r.body.error?.code}`);
      made++;
    };
    for (let i = 0; i < 1000; i += 8) await Promise.all(Array.from({ length: 8 }, (_, k) => one(i + k)));
    ctx.log(`timeline: ${made} activities on one client\n`);
    return {
      title: 'timeline: one client with 1,000 activities',
      scenarios: [
        {
          name: 'api: list 50 (timeline team)',
          opts: { url: `${ctx.api}/v1/clients?limit=50`, headers: { authorization: `Bearer ${token}` } },
        },
        {
          name: 'api: timeline 50 of 1,000 entries',
          opts: {
            url: `${ctx.api}/v1/clients/${clientId}/timeline?limit=50`,
            headers: { authorization: `Bearer ${token}` },
          },
        },
      ],
      ratios: [
        {
          label: 'timeline (1,000 entries) / list',
          a: 'api: timeline 50 of 1,000 entries',
          b: 'api: list 50 (timeline team)',
          target: '≥ 0.5',
        },
      ],
    };
  },
};

/** A 50,000-row CSV import (one request) against a bare bulk insert of the same rows. */
const csvImport: OptionalSuite = {
  name: 'CSV import',
  async prepare(ctx) {
    const seeded = await seedClients(ctx.query, { teams: 1, clients: 1, password: ctx.password });
    const teamId = seeded.teamIds[0]!;
    const token = await ctx.login(seeded.emails[0]!);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'text/csv' };
    const probe = await ctx.call('/v1/clients/import?dryRun=true', {
      method: 'POST',
      headers,
      body: 'firstName,lastName,email\nAda,Probe,probe@example.com\n',
    });
    if (probe.status !== 200) return `POST /v1/clients/import answered ${probe.status}`;
    const ROWS = 50_000;
    let batch = 0;
    const csv = () => {
      batch++;
      const lines = ['firstName,lastName,email,phone,clientType,status,address'];
      for (let i = 0; i < ROWS; i++)
        lines.push(
          `Imported,${SURNAMES[i % 100]} ${batch}-${i},imp${batch}-${i}@example.com,+1 555 ${String(i % 10000).padStart(4, '0')},buyer,active,${i} Import Road`,
        );
      return lines.join('\n') + '\n';
    };
    return {
      title: `CSV import: ${ROWS.toLocaleString('en')} rows per request`,
      scenarios: [
        {
          name: 'floor: bulk insert 50k rows',
          once: async () => {
            batch++;
            const started = Date.now();
            await ctx.query(
              `INSERT INTO clients (team_id, first_name, last_name, email, phone, client_type, status, address)
               SELECT $1, 'Imported', ($2::text[])[1 + g % 100] || ' ' || $3 || '-' || g, 'imp' || $3 || '-' || g || '@example.com',
                      '+1 555 ' || lpad((g % 10000)::text, 4, '0'), 'buyer', 'active', g || ' Import Road'
                 FROM generate_series(1, $4::int) AS g`,
              [teamId, SURNAMES, batch, ROWS],
            );
            return { units: ROWS, ms: Date.now() - started };
          },
        },
        {
          name: 'api: CSV import 50k rows',
          once: async () => {
            const body = csv();
            const started = Date.now();
            const r = await ctx.call('/v1/clients/import', { method: 'POST', headers, body });
            if (r.status !== 200) throw new Error(`import answered ${r.status}: ${r.body.error?.code}`);
            return { units: ROWS, ms: Date.now() - started };
          },
        },
      ],
      ratios: [
        {
          label: 'CSV import rows/s / bulk insert rows/s',
          a: 'api: CSV import 50k rows',
          b: 'floor: bulk insert 50k rows',
          target: 'informational',
        },
      ],
    };
  },
};

export const OPTIONAL_SUITES: OptionalSuite[] = [myLeads, timeline, csvImport];
