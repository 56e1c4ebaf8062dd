import { Client } from 'pg';
import { AUDIT_LANES } from '../src/modules/audit/audit-chain';
import { TASK_DUE_SORT, TASK_TIMELINE_AT } from '../src/modules/crm/tasks/tasks.definition';
import { type TestDatabase, createTestDatabase } from './helpers/test-app';

/**
 * Runtime code does not import migrations (docs/architecture.json): where it needs a value a migration fixed
 * (an indexed expression, a CHECK bound) it keeps its own copy. These checks fail when a copy drifts from the
 * migrated schema.
 */
describe('runtime copies of migration constants match the schema', () => {
  let db: TestDatabase;
  let pg: Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });
  afterAll(async () => {
    await pg.end();
    await db.drop();
  });

  /** The plan of `sql` with sorting and sequential scans priced out: which index serves the ORDER BY, if any. */
  async function plan(sql: string): Promise<string> {
    await pg.query('SET enable_seqscan = off');
    await pg.query('SET enable_sort = off');
    const [row] = (await pg.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`)).rows;
    return JSON.stringify(row!['QUERY PLAN']);
  }

  const team = '00000000-0000-4000-8000-000000000001';
  const client = '00000000-0000-4000-8000-000000000002';

  it('TASK_DUE_SORT is the expression of tasks_team_due_idx (the dueAt sort reads the index, no sort step)', async () => {
    const json = await plan(`SELECT id FROM tasks WHERE team_id = '${team}' ORDER BY ${TASK_DUE_SORT}, id LIMIT 5`);
    expect(json).toContain('"Index Name":"tasks_team_due_idx"');
    expect(json).not.toContain('"Node Type":"Sort"');
  });

  it("TASK_TIMELINE_AT is the timeline key of the tasks link indexes (a client's timeline reads the index)", async () => {
    const json = await plan(
      `SELECT id FROM tasks WHERE team_id = '${team}' AND client_id = '${client}'
        ORDER BY ${TASK_TIMELINE_AT} DESC, id DESC LIMIT 5`,
    );
    expect(json).toContain('"Index Name":"tasks_team_client_idx"');
    expect(json).not.toContain('"Node Type":"Sort"');
  });

  it('AUDIT_LANES is the bound of the audit_chain_heads lane CHECK', async () => {
    const { rows } = await pg.query<{ def: string }>(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE conrelid = 'audit_chain_heads'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%lane%'`,
    );
    expect(rows.map((r) => r.def)).toEqual([`CHECK (((lane >= 0) AND (lane < ${AUDIT_LANES})))`]);
  });
});
