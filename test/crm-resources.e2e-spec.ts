import { UUID_PATTERN } from '../src/common/http/uuid.pipe';
import { registerTeam } from './helpers/auth';
import { CRM_CASES, type CrmCase, type Refs, createRefs, fillQuery, listAll } from './helpers/crm-cases';
import { parseCsv } from './helpers/csv';
import { expectNoLeak } from './helpers/http';
import { type TestApp, startTestApp } from './helpers/test-app';

/**
 * The generic resource behaviour, driven over all five resources from one table (test/helpers/crm-cases.ts):
 * CRUD, validation, every filter, search, every sort with cursor pagination, totals, bad queries, CSV export.
 * Resource-specific behaviour is in crm-specifics.e2e-spec.ts.
 */
describe('CRM resources (table-driven over clients, leads, appointments, escrows, listings)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const expect400 = (res: { status: number; body: any; text: string }, what: string) => {
    if (res.status !== 400) throw new Error(`${what}: expected 400, got ${res.status} ${res.text}`);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expectNoLeak(res.text);
  };

  describe.each(CRM_CASES.map((c) => [c.resource, c] as [string, CrmCase]))('%s', (_name, c) => {
    const path = `/v1/${c.resource}`;
    let token: string;
    let userId: string;
    let teamId: string;
    let refs: Refs;

    beforeAll(async () => {
      const team = await registerTeam(t);
      token = team.accessToken;
      userId = team.userId;
      teamId = team.teamId;
      refs = c.needsRefs ? await createRefs(t, token) : { clientId: '', leadId: '', listingId: '' };
    });

    it('create, read, update, delete', async () => {
      const statusField = Object.keys(c.defaults).find((k) => k === 'status' || k === 'leadStatus')!;
      const withNull = await t.http.post(path, { ...c.minimal(refs), [statusField]: null }, { token });
      expect(withNull.status).toBe(201);
      expect(withNull.body.data[statusField]).toBe(c.defaults[statusField]);
      const min = await t.http.post(path, c.minimal(refs), { token });
      expect(min.status).toBe(201);
      const created = min.body.data;
      expect(created).toMatchObject({
        ...c.minimal(refs),
        ...c.defaults,
        createdBy: userId,
        createdByApiKey: null,
        assignedTo: userId,
        version: 1,
      });
      expect(created.id).toMatch(UUID_PATTERN);
      expect(created.teamId).toBeUndefined();
      expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);

      const full = await t.http.post(path, c.full(refs), { token });
      expect(full.status).toBe(201);
      expect(full.body.data).toMatchObject(c.full(refs));
      const got = await t.http.get(`${path}/${full.body.data.id}`, { token });
      expect(got.status).toBe(200);
      expect(got.body).toEqual({ success: true, data: full.body.data });

      const patched = await t.http.patch(`${path}/${created.id}`, c.patch(refs), { token });
      expect(patched.status).toBe(200);
      expect(patched.body.data).toMatchObject({
        ...created,
        ...c.patch(refs),
        updatedAt: expect.any(String),
        version: created.version + 1,
      });
      expect(Date.parse(patched.body.data.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));
      expect((await t.http.get(`${path}/${created.id}`, { token })).body.data).toEqual(patched.body.data);

      expect400(await t.http.patch(`${path}/${created.id}`, {}, { token }), 'empty PATCH');
      expect400(
        await t.http.patch(`${path}/${created.id}`, { [c.requiredField]: null }, { token }),
        `PATCH ${c.requiredField}=null`,
      );
      expect400(await t.http.patch(`${path}/${created.id}`, { nope: 1 }, { token }), 'PATCH unknown field');
      expect((await t.http.get(`${path}/${created.id}`, { token })).body.data).toEqual(patched.body.data);

      const removed = await t.http.delete(`${path}/${created.id}`, { token });
      expect(removed.status).toBe(200);
      expect(removed.body.data).toEqual({ id: created.id, deleted: true });
      for (const res of [
        await t.http.get(`${path}/${created.id}`, { token }),
        await t.http.patch(`${path}/${created.id}`, c.patch(refs), { token }),
        await t.http.delete(`${path}/${created.id}`, { token }),
        await t.http.get(`${path}/00000000-0000-4000-8000-000000000000`, { token }),
      ]) {
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('NOT_FOUND');
      }
      for (const bad of ['not-a-uuid', '123', `${created.id}x`, "1' OR '1'='1"]) {
        const id = encodeURIComponent(bad);
        expect400(await t.http.get(`${path}/${id}`, { token }), `GET ${bad}`);
        expect400(await t.http.patch(`${path}/${id}`, c.patch(refs), { token }), `PATCH ${bad}`);
        expect400(await t.http.delete(`${path}/${id}`, { token }), `DELETE ${bad}`);
      }
    });

    it('refuses invalid bodies with 400 VALIDATION_ERROR and creates nothing', async () => {
      const before = await t.dataSource.query(`SELECT count(*)::int AS n FROM ${c.resource} WHERE team_id = $1`, [
        teamId,
      ]);
      for (const [what, body] of c.invalid(refs)) expect400(await t.http.post(path, body, { token }), what);
      expect400(await t.http.request('POST', path, { rawBody: '{"broken": ', token }), 'malformed JSON');
      const after = await t.dataSource.query(`SELECT count(*)::int AS n FROM ${c.resource} WHERE team_id = $1`, [
        teamId,
      ]);
      expect(after).toEqual(before);
    });

    it('lists: every filter, search, every sort paginated without gaps or duplicates, totals', async () => {
      for (const body of c.variants(refs)) expect((await t.http.post(path, body, { token })).status).toBe(201);
      const all = await listAll(t, token, path);
      const allIds = all.map((r) => r.id);
      expect(new Set(allIds).size).toBe(allIds.length);
      const [{ n }] = await t.dataSource.query(
        `SELECT count(*)::int AS n FROM ${c.resource} WHERE team_id = $1 AND deleted_at IS NULL`,
        [teamId],
      );
      expect(all.length).toBe(n);

      for (const filter of c.filters) {
        const expected = all
          .filter((r) => filter.match(r, refs))
          .map((r) => r.id)
          .sort();
        expect(expected.length).toBeGreaterThan(0);
        expect(expected.length).toBeLessThan(all.length);
        const got = (await listAll(t, token, path, fillQuery(filter.query, refs))).map((r) => r.id);
        expect([...got].sort()).toEqual(expected);
        // The same filter one row per page: same rows, same order.
        expect((await listAll(t, token, path, fillQuery(filter.query, refs), 1)).map((r) => r.id)).toEqual(got);
      }

      const found = (await listAll(t, token, path, `q=${encodeURIComponent(c.search.q)}`)).map((r) => r.id).sort();
      expect(found.length).toBeGreaterThan(0);
      expect(found).toEqual(
        all
          .filter(c.search.match)
          .map((r) => r.id)
          .sort(),
      );
      expect(await listAll(t, token, path, 'q=%25')).toEqual([]);
      expect(await listAll(t, token, path, 'q=_')).toEqual([]);

      for (const { sort, key } of c.sorts) {
        const pages = await listAll(t, token, path, `sort=${encodeURIComponent(sort)}`, 2);
        const ids = pages.map((r) => r.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect([...ids].sort()).toEqual([...allIds].sort());
        const desc = sort.startsWith('-');
        for (let i = 1; i < pages.length; i++) {
          const [a, b] = [key(pages[i - 1]!), key(pages[i]!)];
          if (desc ? a < b : a > b) throw new Error(`sort ${sort}: ${a} before ${b}`);
        }
      }

      const withTotal = await t.http.get(`${path}?limit=1&includeTotal=true`, { token });
      expect(withTotal.body.meta).toEqual({ limit: 1, total: all.length, nextCursor: expect.any(String) });
      const noTotal = await t.http.get(`${path}?limit=2`, { token });
      expect(noTotal.body.meta.total).toBeUndefined();
      expect(noTotal.body.data).toHaveLength(2);
      const last = await t.http.get(`${path}?limit=100`, { token });
      expect(last.body.meta).toEqual({ limit: 100, nextCursor: null });
      expect((await t.http.get(path, { token })).body.meta.limit).toBe(25);
    });

    it('refuses bad limits, sorts, cursors and filters with 400 VALIDATION_ERROR (never 500)', async () => {
      const first = await t.http.get(`${path}?sort=createdAt&limit=1`, { token });
      const cursor = first.body.meta.nextCursor as string;
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      const forged = (payload: object) => Buffer.from(JSON.stringify(payload)).toString('base64url');
      const queries = [
        'limit=0',
        'limit=101',
        'limit=abc',
        'limit=1.5',
        'limit=-1',
        'sort=password',
        'sort=-id',
        'sort=createdAt,lastName',
        'cursor=!!!',
        `cursor=${forged(['array'])}`,
        `cursor=${forged({ s: '-createdAt', v: "x' OR 1=1 --", i: '00000000-0000-4000-8000-000000000000' })}`,
        `cursor=${forged({ s: '-createdAt', v: '2030-01-01T00:00:00.000000Z', i: 'not-a-uuid' })}`,
        `sort=-createdAt&cursor=${cursor}`,
        'q=',
        'q=%00abc',
        `q=${'y'.repeat(101)}`,
        'includeTotal=yes',
        'teamId=00000000-0000-4000-8000-000000000000',
        'unknownFilter=1',
        ...c.badQueries,
      ];
      for (const q of queries) expect400(await t.http.get(`${path}?${q}`, { token }), q);
      expect((await t.http.get(`${path}?sort=createdAt&cursor=${cursor}`, { token })).status).toBe(200);
    });

    it('exports CSV: header row, one record per row, data_export event', async () => {
      const all = await listAll(t, token, path);
      const res = await t.http.get(`${path}/export`, { token });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(res.headers.get('content-disposition')).toMatch(
        new RegExp(`^attachment; filename="${c.resource}-\\d{4}-\\d{2}-\\d{2}\\.csv"$`),
      );
      const [header, ...records] = parseCsv(res.text);
      expect(header![0]).toBe('id');
      expect(header).toEqual(expect.arrayContaining(['createdAt', 'updatedAt', ...Object.keys(c.minimal(refs))]));
      expect(header).not.toContain('teamId');
      expect(records.map((r) => r[0]).sort()).toEqual(all.map((r) => r.id).sort());
      const events = await t.dataSource.query(
        `SELECT severity, user_id, details FROM security_events WHERE team_id = $1 AND event_type = 'data_export' AND details->>'resource' = $2`,
        [teamId, c.resource],
      );
      expect(events).toEqual([
        { severity: 'medium', user_id: userId, details: expect.objectContaining({ rows: all.length, format: 'csv' }) },
      ]);
      expect(
        await t.dataSource.query(
          `SELECT 1 FROM security_events WHERE team_id = $1 AND event_type = 'data_export_large'`,
          [teamId],
        ),
      ).toEqual([]);

      const filter = c.filters[0];
      const filtered = await t.http.get(`${path}/export?${fillQuery(filter!.query, refs)}`, { token });
      expect(parseCsv(filtered.text).length - 1).toBe(all.filter((r) => filter!.match(r, refs)).length);
      expect400(await t.http.get(`${path}/export?limit=5`, { token }), 'export with limit');
    });
  });
});
