import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TeamScope } from '../src/database/team-scope';
import { ClientsService } from '../src/modules/crm/clients/clients.service';
import { ListingsService } from '../src/modules/crm/listings/listings.service';
import { type TestApp, startTestApp } from './helpers/test-app';
import { apiKeyActor, auditRows, insertTeam, userActor, verifyChains } from './helpers/crm';

/**
 * The audit trail below HTTP: one transaction for a change and its audit row, the per-team hash chain under
 * concurrency, the verifier (function and npm script) catching edits, and row-level security as a second wall.
 */
describe('audit trail: atomicity, hash chain, verifier; row-level security', () => {
  let t: TestApp;
  let clients: ClientsService;
  let listings: ListingsService;
  let teamA: string;
  let teamB: string;

  beforeAll(async () => {
    t = await startTestApp();
    clients = t.app.get(ClientsService);
    listings = t.app.get(ListingsService);
    teamA = await insertTeam(t, 'A');
    teamB = await insertTeam(t, 'B');
  });
  afterAll(() => t.close());

  it('an API-key caller creates rows attributed to the key, audited with api_key_id and no user', async () => {
    const actor = apiKeyActor(teamA);
    const created = await clients.create(actor, { firstName: 'Key', lastName: 'Made' });
    expect(created).toMatchObject({
      createdBy: null,
      createdByApiKey: (actor.principal as { apiKeyId: string }).apiKeyId,
    });
    const [row] = await t.dataSource.query(
      `SELECT team_id, created_by, created_by_api_key FROM clients WHERE id = $1`,
      [created.id],
    );
    expect(row.team_id).toBe(teamA);
    const [audit] = await t.dataSource.query(`SELECT * FROM audit_log WHERE resource_id = $1`, [created.id]);
    expect(audit).toMatchObject({
      action: 'CREATE',
      resource_type: 'client',
      user_id: null,
      api_key_id: row.created_by_api_key,
      ip_address: '10.1.2.3',
      user_agent: 'integration/1.0',
    });
    expect(audit.new_values).toMatchObject({
      firstName: 'Key',
      lastName: 'Made',
      createdByApiKey: row.created_by_api_key,
    });
  });

  it('a failure after the audit insert (trigger on audit_log) leaves neither the change nor its audit row', async () => {
    await t.dataSource.query(`
      CREATE FUNCTION test_fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.new_values->>'firstName' = 'FailAudit' OR NEW.old_values->>'firstName' = 'FailAuditDelete' THEN
          RAISE EXCEPTION 'forced audit failure';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_fail_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION test_fail_audit();`);
    try {
      const actor = userActor(teamA);
      const before = await auditRows(t, teamA);
      await expect(clients.create(actor, { firstName: 'FailAudit', lastName: 'X' })).rejects.toThrow(
        /forced audit failure/,
      );
      expect(await t.dataSource.query(`SELECT 1 FROM clients WHERE first_name = 'FailAudit'`)).toHaveLength(0);

      const kept = await clients.create(actor, { firstName: 'Kept', lastName: 'Row' });
      await expect(clients.update(actor, kept.id, { firstName: 'FailAudit' })).rejects.toThrow(/forced audit failure/);
      const [still] = await t.dataSource.query(`SELECT first_name FROM clients WHERE id = $1`, [kept.id]);
      expect(still.first_name).toBe('Kept');

      const doomed = await clients.create(actor, { firstName: 'FailAuditDelete', lastName: 'Y' });
      await expect(clients.remove(actor, doomed.id)).rejects.toThrow(/forced audit failure/);
      expect(await t.dataSource.query(`SELECT 1 FROM clients WHERE id = $1`, [doomed.id])).toHaveLength(1);

      // Exactly the two successful creates were audited, and the chain has no hole where the failures were.
      const after = await auditRows(t, teamA);
      expect(after.length - before.length).toBe(2);
      expect((await verifyChains(t, teamA)).ok).toBe(true);
    } finally {
      await t.dataSource.query(`DROP TRIGGER test_fail_audit ON audit_log; DROP FUNCTION test_fail_audit();`);
    }
  });

  it('a failure at COMMIT (deferred constraint trigger, after both inserts) rolls both back', async () => {
    await t.dataSource.query(`
      CREATE FUNCTION test_fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.first_name = 'FailAtCommit' THEN RAISE EXCEPTION 'forced commit failure'; END IF;
        RETURN NEW;
      END $$;
      CREATE CONSTRAINT TRIGGER test_fail_commit AFTER INSERT ON clients DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION test_fail_commit();`);
    try {
      const before = (await auditRows(t, teamA)).length;
      await expect(clients.create(userActor(teamA), { firstName: 'FailAtCommit', lastName: 'Z' })).rejects.toThrow(
        /forced commit failure/,
      );
      expect(await t.dataSource.query(`SELECT 1 FROM clients WHERE first_name = 'FailAtCommit'`)).toHaveLength(0);
      expect((await auditRows(t, teamA)).length).toBe(before);
      expect(
        await t.dataSource.query(`SELECT 1 FROM audit_log WHERE new_values->>'firstName' = 'FailAtCommit'`),
      ).toHaveLength(0);
    } finally {
      await t.dataSource.query(`DROP TRIGGER test_fail_commit ON clients; DROP FUNCTION test_fail_commit();`);
    }
  });

  it('concurrent writers of one team spread over lanes, each lane a gapless chain matching its head', async () => {
    const before = (await auditRows(t, teamB)).length;
    await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        listings.create(userActor(teamB), { address: `${i} Parallel Way`, price: 100000 + i }),
      ),
    );
    const rows = await auditRows(t, teamB);
    expect(rows.length - before).toBe(24);
    const lanes = new Map<number, any[]>();
    for (const r of rows) lanes.set(r.lane, [...(lanes.get(r.lane) ?? []), r]);
    const heads: { lane: number; seq: number; hash: string }[] = await t.dataSource.query(
      `SELECT lane, seq::int AS seq, hash FROM audit_chain_heads WHERE team_id = $1 AND seq > 0 ORDER BY lane`,
      [teamB],
    );
    expect(heads.map((h) => h.lane)).toEqual([...lanes.keys()].sort());
    for (const [lane, chain] of lanes) {
      chain.sort((a, b) => Number(a.seq) - Number(b.seq));
      expect(chain.map((r) => Number(r.seq))).toEqual(chain.map((_, i) => i + 1));
      for (let i = 1; i < chain.length; i++) expect(chain[i].prev_hash).toBe(chain[i - 1].hash);
      // Within a lane, created_at follows seq (it is taken after the lane's lock).
      for (let i = 1; i < chain.length; i++)
        expect(chain[i].created_at.getTime()).toBeGreaterThanOrEqual(chain[i - 1].created_at.getTime());
      expect(heads.find((h) => h.lane === lane)).toEqual({
        lane,
        seq: chain.length,
        hash: chain[chain.length - 1].hash,
      });
    }
    expect(await verifyChains(t)).toMatchObject({ ok: true, broken: [] });
  });

  it('a writer finding lane 0 held takes the next free lane instead of waiting; a lone writer always uses lane 0', async () => {
    const team = await insertTeam(t, 'Lanes');
    const actor = userActor(team);
    const first = await clients.create(actor, { firstName: 'Lane', lastName: 'Zero' });
    // Hold lane 0 in an open transaction (an audited write not yet committed) ...
    const holder = t.dataSource.createQueryRunner();
    await holder.connect();
    try {
      await holder.startTransaction();
      await holder.query(`SELECT 1 FROM audit_chain_heads WHERE team_id = $1 AND lane = 0 FOR UPDATE`, [team]);
      // ... and a second write does not queue behind it: it commits on lane 1 while lane 0 is still held.
      const second = await clients.create(actor, { firstName: 'Lane', lastName: 'One' });
      const [a] = await t.dataSource.query(`SELECT lane, seq::int AS seq FROM audit_log WHERE resource_id = $1`, [
        second.id,
      ]);
      expect(a).toEqual({ lane: 1, seq: 1 });
    } finally {
      await holder.rollbackTransaction();
      await holder.release();
    }
    const third = await clients.create(actor, { firstName: 'Lane', lastName: 'Zero again' });
    const lanes = await t.dataSource.query(
      `SELECT resource_id, lane, seq::int AS seq FROM audit_log WHERE team_id = $1 ORDER BY created_at`,
      [team],
    );
    expect(lanes.map((r: { lane: number; seq: number }) => [r.lane, r.seq])).toEqual([
      [0, 1],
      [1, 1],
      [0, 2],
    ]);
    expect(lanes.map((r: { resource_id: string }) => r.resource_id)).toEqual([first.id, expect.any(String), third.id]);
    expect((await verifyChains(t, team)).ok).toBe(true);
  });

  it('the tenant role cannot change audit rows, and nobody can update or delete them while the trigger stands', async () => {
    const [row] = await auditRows(t, teamA);
    const scope = t.app.get(TeamScope);
    await expect(
      scope.run(teamA, (m) => m.query(`UPDATE audit_log SET ip_address = 'x' WHERE id = $1`, [row.id])),
    ).rejects.toThrow(/permission denied/);
    await expect(t.dataSource.query(`UPDATE audit_log SET ip_address = 'x' WHERE id = $1`, [row.id])).rejects.toThrow(
      /append-only/,
    );
    await expect(t.dataSource.query(`DELETE FROM audit_log WHERE id = $1`, [row.id])).rejects.toThrow(/append-only/);
  });

  describe('tampering (trigger disabled, as a superuser could) is caught by the verifier', () => {
    const tamper = async (sql: string, params: unknown[]) => {
      await t.dataSource.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`);
      try {
        await t.dataSource.query(sql, params);
      } finally {
        await t.dataSource.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change`);
      }
    };

    it('an edited value: reports team, seq and row id; the npm script exits 1 naming it', async () => {
      const team = await insertTeam(t, 'Tampered');
      const actor = userActor(team);
      const c = await clients.create(actor, { firstName: 'Honest', lastName: 'Entry' });
      await clients.update(actor, c.id, { status: 'inactive' });
      await clients.update(actor, c.id, { notes: 'third link' });
      expect((await verifyChains(t, team)).ok).toBe(true);

      const [second] = await t.dataSource.query(`SELECT id FROM audit_log WHERE team_id = $1 AND seq = 2`, [team]);
      await tamper(`UPDATE audit_log SET new_values = '{"status": "archived"}' WHERE id = $1`, [second.id]);
      const result = await verifyChains(t, team);
      expect(result.ok).toBe(false);
      expect(result.broken).toEqual([
        { teamId: team, lane: 0, seq: '2', rowId: second.id, reason: expect.stringMatching(/edited/) },
      ]);

      const script = spawnSync('npm', ['run', '--silent', 'audit:verify'], {
        cwd: join(__dirname, '..'),
        env: {
          ...process.env,
          // As the API's least-privilege role: verify reads every team's chain through app_api's policies.
          DATABASE_URL: t.database.apiUrl,
          NODE_ENV: 'test',
          DATA_DIR: t.dataDir,
          LOG_LEVEL: 'silent',
        },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(script.status).toBe(1);
      expect(script.stdout).toContain(`BROKEN team=${team} seq=2 row=${second.id}`);
    });

    it('a re-hashed row breaks the next link; a deleted row leaves a gap; a dropped tail disagrees with the head', async () => {
      const team = await insertTeam(t, 'Rewritten');
      const actor = userActor(team);
      const c = await clients.create(actor, { firstName: 'One', lastName: 'Two' });
      for (const status of ['inactive', 'archived', 'active', 'inactive'] as const)
        await clients.update(actor, c.id, { status });
      const rows = await auditRows(t, team);
      expect(rows).toHaveLength(5);

      // Recomputing a row's own hash does not help: the next row's prev_hash no longer matches.
      await tamper(`UPDATE audit_log SET hash = repeat('a', 64) WHERE id = $1`, [rows[1].id]);
      let result = await verifyChains(t, team);
      expect(result.broken[0]).toMatchObject({ seq: '2', rowId: rows[1].id });
      await tamper(`UPDATE audit_log SET hash = $2 WHERE id = $1`, [rows[1].id, rows[1].hash]);
      expect((await verifyChains(t, team)).ok).toBe(true);

      await tamper(`DELETE FROM audit_log WHERE id = $1`, [rows[2].id]);
      result = await verifyChains(t, team);
      expect(result.broken[0]).toMatchObject({
        teamId: team,
        seq: '3',
        rowId: null,
        reason: expect.stringMatching(/missing/),
      });

      const team2 = await insertTeam(t, 'Truncated');
      const a2 = userActor(team2);
      const c2 = await clients.create(a2, { firstName: 'Tail', lastName: 'Cut' });
      await clients.update(a2, c2.id, { status: 'archived' });
      const [last] = await t.dataSource.query(`SELECT id FROM audit_log WHERE team_id = $1 AND seq = 2`, [team2]);
      await tamper(`DELETE FROM audit_log WHERE id = $1`, [last.id]);
      result = await verifyChains(t, team2);
      expect(result.broken[0]).toMatchObject({ teamId: team2, seq: '2', reason: expect.stringMatching(/head/) });
    });
  });

  describe('row-level security: the second wall', () => {
    it('an unfiltered SELECT * FROM clients inside TeamScope.run(A) returns only team A rows', async () => {
      await clients.create(userActor(teamA), { firstName: 'Alice', lastName: 'OfA' });
      await clients.create(userActor(teamB), { firstName: 'Bob', lastName: 'OfB' });
      const scope = t.app.get(TeamScope);
      const all = await t.dataSource.query(`SELECT DISTINCT team_id FROM clients`);
      expect(all.length).toBeGreaterThanOrEqual(2);
      const seen = await scope.run(teamA, (m) => m.query(`SELECT * FROM clients`));
      expect(seen.length).toBeGreaterThan(0);
      expect(new Set(seen.map((r: { team_id: string }) => r.team_id))).toEqual(new Set([teamA]));
      for (const table of ['leads', 'appointments', 'escrows', 'listings', 'audit_log', 'audit_chain_heads']) {
        const rows = await scope.run(teamA, (m) => m.query(`SELECT team_id FROM ${table}`));
        expect(rows.every((r: { team_id: string }) => r.team_id === teamA)).toBe(true);
      }
    });

    it('inside team A scope, writes cannot reach or create team B rows', async () => {
      const b = await clients.create(userActor(teamB), { firstName: 'Untouchable', lastName: 'B' });
      const scope = t.app.get(TeamScope);
      const [updated, count] = await scope.run(teamA, (m) =>
        m.query(`UPDATE clients SET notes = 'touched' WHERE id = $1`, [b.id]),
      );
      expect(count).toBe(0);
      expect(updated).toEqual([]);
      await scope.run(teamA, (m) => m.query(`DELETE FROM clients WHERE id = $1`, [b.id]));
      const [still] = await t.dataSource.query(`SELECT notes FROM clients WHERE id = $1`, [b.id]);
      expect(still).toEqual({ notes: null });
      await expect(
        scope.run(teamA, (m) =>
          m.query(`INSERT INTO clients (team_id, first_name, last_name) VALUES ($1, 'Sneaky', 'Insert')`, [teamB]),
        ),
      ).rejects.toThrow(/row-level security/);
    });

    it("a row cannot reference another team's row even past the service (composite foreign keys)", async () => {
      const bClient = await clients.create(userActor(teamB), { firstName: 'Other', lastName: 'Team' });
      await expect(
        t.dataSource.query(
          `INSERT INTO appointments (team_id, title, starts_at, client_id) VALUES ($1, 'x', now(), $2)`,
          [teamA, bClient.id],
        ),
      ).rejects.toThrow(/foreign key/);
    });
  });
});
