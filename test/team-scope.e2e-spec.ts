import { Pool } from 'pg';
import { type QueryRunner } from 'typeorm';
import { Client } from '../src/modules/crm/clients/client.entity';
import { TeamScope } from '../src/database/team-scope';
import { type SignedIn, registerTeam } from './helpers/auth';
import { type TestApp, startTestApp } from './helpers/test-app';

/**
 * TeamScope.batch sends the hot reads (a list page, one record) as one simple-protocol query with the
 * parameters inlined as literals: a value must come back exactly as it went in, whatever quotes, backslashes or
 * `$n` it holds. TeamScope also leans on TypeORM internals (the pg Pool behind the driver, the query runner's
 * transaction bookkeeping); the second part fails if an upgrade moves them.
 */
describe('TeamScope: values through the inlined path', () => {
  let t: TestApp;
  let admin: SignedIn;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerTeam(t);
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  const LAST_NAME = "O'Brien\\";
  const NOTES = [
    'placeholders: $1 $2 $10 $$ $$body$$',
    "escape-string form: E'x' and E'\\\\' and U&'\\0041'",
    "a quote at the end'",
    "'; DROP TABLE clients; --",
    '/* unclosed comment',
    "backslash quote: \\' and a trailing backslash \\",
    'tab\tnewline\ncarriage return\r unicode ß 🙂 \u2028',
  ].join('\n');

  it('a client with quotes, backslashes and $n in its fields reads back byte-identical through list and get', async () => {
    const batch = jest.spyOn(TeamScope.prototype, 'batch');
    const run = jest.spyOn(TeamScope.prototype, 'run');
    const created = await t.http.post(
      '/v1/clients',
      { firstName: 'Tricky', lastName: LAST_NAME, notes: NOTES },
      { token: admin.accessToken },
    );
    expect(created.status).toBe(201);
    expect(created.body.data.lastName).toBe(LAST_NAME);
    expect(created.body.data.notes).toBe(NOTES);
    const id: string = created.body.data.id;

    const one = await t.http.get(`/v1/clients/${id}`, { token: admin.accessToken });
    expect(one.status).toBe(200);
    expect(Buffer.from(one.body.data.lastName as string)).toEqual(Buffer.from(LAST_NAME));
    expect(Buffer.from(one.body.data.notes as string)).toEqual(Buffer.from(NOTES));

    const list = await t.http.get('/v1/clients?limit=100', { token: admin.accessToken });
    expect(list.status).toBe(200);
    const listed = (list.body.data as Array<{ id: string; lastName: string; notes: string }>).find((c) => c.id === id);
    expect(listed).toBeDefined();
    expect(Buffer.from(listed!.lastName)).toEqual(Buffer.from(LAST_NAME));
    expect(Buffer.from(listed!.notes)).toEqual(Buffer.from(NOTES));

    // The search term itself (quote and backslash) goes through the inlined path too.
    const found = await t.http.get(`/v1/clients?q=${encodeURIComponent("O'Brien\\")}`, { token: admin.accessToken });
    expect(found.status).toBe(200);
    expect((found.body.data as Array<{ id: string }>).map((c) => c.id)).toEqual([id]);

    // What was read went through batch, inlined: no call fell back to the parameterised run.
    expect(batch.mock.calls.length).toBeGreaterThanOrEqual(3);
    expect(run).not.toHaveBeenCalled();
    // And the database holds exactly those bytes (read with a bound parameter, not through TeamScope).
    const [row] = await t.dataSource.query(`SELECT last_name, notes FROM clients WHERE id = $1`, [id]);
    expect(row).toEqual({ last_name: LAST_NAME, notes: NOTES });
  });

  it('a NUL byte cannot be inlined: batch takes the parameterised path, and the API answers 400', async () => {
    const run = jest.spyOn(TeamScope.prototype, 'run');
    const res = await t.http.post(
      '/v1/clients',
      { firstName: 'Nul', lastName: 'Byte', notes: 'before\u0000after' },
      { token: admin.accessToken },
    );
    // sqlLiteral refused the value, so the insert went the parameterised way (run), where Postgres itself
    // refuses a NUL in text (22021): a validation error, not a 500 and not a silently truncated value.
    expect(run).toHaveBeenCalledTimes(1);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    const stored = await t.dataSource.query(`SELECT 1 FROM clients WHERE team_id = $1 AND first_name = 'Nul'`, [
      admin.teamId,
    ]);
    expect(stored).toEqual([]);

    // The same on a read: a search term with a NUL falls back too, and gets the same answer.
    run.mockClear();
    const search = await t.http.get(`/v1/clients?q=${encodeURIComponent('a\u0000b')}`, { token: admin.accessToken });
    expect(run).toHaveBeenCalledTimes(1);
    expect(search.status).toBe(400);
    expect(search.body.error.code).toBe('VALIDATION_ERROR');
  });
});

describe('TeamScope: the TypeORM internals it relies on', () => {
  let t: TestApp;
  let admin: SignedIn;
  let scope: TeamScope;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerTeam(t);
    scope = t.app.get(TeamScope);
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it('the Postgres driver exposes its pg Pool as `master` (what batch checks connections out of)', async () => {
    const master: unknown = (t.appDataSource.driver as unknown as { master: unknown }).master;
    expect(master).toBeInstanceOf(Pool);
    // It is the pool TypeORM itself uses: a connection from it sees the same database.
    const client = await (master as Pool).connect();
    try {
      const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
      expect(rows[0]!.db).toBe(t.database.name);
    } finally {
      client.release();
    }
  });

  it('a query runner has the transaction bookkeeping run sets (isTransactionActive, transactionDepth)', async () => {
    const runner = t.appDataSource.createQueryRunner();
    try {
      const state = runner as unknown as Record<string, unknown>;
      expect(typeof state.isTransactionActive).toBe('boolean');
      expect(typeof state.transactionDepth).toBe('number');
      expect(state.isTransactionActive).toBe(false);
      expect(state.transactionDepth).toBe(0);
      // TypeORM keeps them itself: a transaction of its own moves both.
      await runner.connect();
      await runner.startTransaction();
      expect([state.isTransactionActive, state.transactionDepth]).toEqual([true, 1]);
      await runner.startTransaction();
      expect(state.transactionDepth).toBe(2);
      await runner.rollbackTransaction();
      await runner.rollbackTransaction();
      expect([state.isTransactionActive, state.transactionDepth]).toEqual([false, 0]);
    } finally {
      await runner.release();
    }
  });

  it('inside run, a nested transaction is a SAVEPOINT of the same transaction, still scoped to the team', async () => {
    const statements: string[] = [];
    const proto = Object.getPrototypeOf(t.appDataSource.createQueryRunner()) as QueryRunner;
    const query = Reflect.get(proto, 'query') as (this: QueryRunner, ...a: unknown[]) => Promise<unknown>;
    jest.spyOn(proto, 'query').mockImplementation(function (this: QueryRunner, sql: string, ...rest: unknown[]) {
      statements.push(sql);
      return query.call(this, sql, ...rest);
    } as QueryRunner['query']);

    type Seen = { txid: string; team: string; role: string };
    const seen = (m: { query: (sql: string) => Promise<Seen[]> }) =>
      m
        .query(`SELECT txid_current()::text AS txid, current_setting('app.team_id') AS team, current_user AS role`)
        .then((rows) => rows[0]!);

    const result = await scope.run(admin.teamId, async (manager) => {
      const outer = await seen(manager);
      const kept = await manager.save(Client, { teamId: admin.teamId, firstName: 'Kept', lastName: 'Outer' });
      let inner: Seen | undefined;
      let droppedId: string | undefined;
      await manager
        .transaction(async (nested) => {
          inner = await seen(nested);
          droppedId = (await nested.save(Client, { teamId: admin.teamId, firstName: 'Dropped', lastName: 'Inner' })).id;
          throw new Error('roll the nested part back');
        })
        .catch((err: Error) => expect(err.message).toBe('roll the nested part back'));
      const after = await seen(manager);
      return { outer, inner: inner!, after, keptId: kept.id, droppedId: droppedId! };
    });

    expect(result.inner.txid).toBe(result.outer.txid);
    expect(result.after.txid).toBe(result.outer.txid);
    for (const s of [result.outer, result.inner, result.after]) {
      expect(s.team).toBe(admin.teamId);
      expect(s.role).toBe('app_tenant');
    }
    // One transaction, begun once (by run's scope statement); the nested one was a savepoint rolled back alone.
    const control = statements.filter((s) =>
      /^\s*(START TRANSACTION|BEGIN|SAVEPOINT|ROLLBACK|RELEASE|COMMIT)/i.test(s),
    );
    expect(control.filter((s) => /^\s*(START TRANSACTION|BEGIN)/i.test(s))).toHaveLength(1);
    expect(control.some((s) => /^SAVEPOINT typeorm_\d+/.test(s))).toBe(true);
    expect(control.some((s) => /^ROLLBACK TO SAVEPOINT typeorm_\d+/.test(s))).toBe(true);
    expect(control[control.length - 1]).toBe('COMMIT');
    const rows: Array<{ id: string }> = await t.dataSource.query(`SELECT id FROM clients WHERE id = ANY($1)`, [
      [result.keptId, result.droppedId],
    ]);
    expect(rows.map((r) => r.id)).toEqual([result.keptId]);
  });
});
