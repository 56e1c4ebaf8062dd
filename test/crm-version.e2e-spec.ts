import { type SignedIn, registerTeam } from './helpers/auth';
import { type TestApp, startTestApp } from './helpers/test-app';

const RESOURCES: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
  ['clients', { firstName: 'Ver', lastName: 'Sion' }, { lastName: 'Changed' }],
  ['leads', { firstName: 'Ver', lastName: 'Sion' }, { source: 'web' }],
  ['appointments', { title: 'Ver', startsAt: '2031-06-01T10:00:00Z' }, { location: 'Office' }],
  ['escrows', { propertyAddress: '1 Version St' }, { escrowNumber: null }],
  ['listings', { address: '2 Version St' }, { city: 'Springfield' }],
];

/**
 * Optimistic concurrency: `version` is 1 on create and +1 per change; GET /:id sends `ETag: "<version>"`; PATCH
 * and DELETE with an If-Match naming another version are 412 PRECONDITION_FAILED and change nothing (no audit
 * row either); a malformed If-Match is 400; two writers holding the same version: exactly one wins.
 */
describe('CRM optimistic concurrency (version, ETag, If-Match)', () => {
  let t: TestApp;
  let admin: SignedIn;
  let token: string;
  const auditCount = async (id: string) =>
    Number((await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_log WHERE resource_id = $1`, [id]))[0].n);
  const ifMatch = (value: string) => ({ token, headers: { 'if-match': value } });

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerTeam(t, { teamName: 'Versions' });
    token = admin.accessToken;
  });
  afterAll(() => t?.close());

  it.each(RESOURCES)('%s: ETag on GET, If-Match on PATCH and DELETE', async (r, body, patch) => {
    const created = (await t.http.post(`/v1/${r}`, body, { token })).body.data;
    expect(created.version).toBe(1);
    const got = await t.http.get(`/v1/${r}/${created.id}`, { token });
    expect(got.headers.get('etag')).toBe('"1"');

    const ok = await t.http.patch(`/v1/${r}/${created.id}`, patch, ifMatch('"1"'));
    expect(ok.status).toBe(200);
    expect(ok.body.data.version).toBe(2);
    expect(ok.headers.get('etag')).toBe('"2"');
    const before = await auditCount(created.id);

    // A stale version: 412 and nothing changes (row, version, audit trail).
    const stale = await t.http.patch(`/v1/${r}/${created.id}`, body, ifMatch('"1"'));
    expect(stale.status).toBe(412);
    expect(stale.body.error.code).toBe('PRECONDITION_FAILED');
    const staleDelete = await t.http.delete(`/v1/${r}/${created.id}`, ifMatch('W/"1"'));
    expect(staleDelete.status).toBe(412);
    expect(staleDelete.body.error.code).toBe('PRECONDITION_FAILED');
    expect((await t.http.get(`/v1/${r}/${created.id}`, { token })).body.data).toEqual(ok.body.data);
    expect(await auditCount(created.id)).toBe(before);

    // Garbage is 400 (never "no precondition"), and changes nothing either.
    for (const bad of ['*', 'abc', '"2", "3"', '"0"', 'W/2', '"-2"', '2.0', '"99999999999"']) {
      const res = await t.http.patch(`/v1/${r}/${created.id}`, patch, ifMatch(bad));
      expect([bad, res.status, res.body.error?.code]).toEqual([bad, 400, 'VALIDATION_ERROR']);
      expect((await t.http.delete(`/v1/${r}/${created.id}`, ifMatch(bad))).status).toBe(400);
    }
    expect(await auditCount(created.id)).toBe(before);

    // All three spellings of the current version are accepted; without If-Match the last write wins.
    expect((await t.http.patch(`/v1/${r}/${created.id}`, patch, ifMatch('2'))).body.data.version).toBe(3);
    expect((await t.http.patch(`/v1/${r}/${created.id}`, patch, ifMatch('W/"3"'))).body.data.version).toBe(4);
    expect((await t.http.patch(`/v1/${r}/${created.id}`, patch, { token })).body.data.version).toBe(5);
    // version is read-only.
    expect((await t.http.patch(`/v1/${r}/${created.id}`, { version: 1 }, { token })).status).toBe(400);
    expect((await t.http.post(`/v1/${r}`, { ...body, version: 7 }, { token })).status).toBe(400);

    // Unknown id with If-Match: 404 (not 412).
    const missing = await t.http.patch(`/v1/${r}/00000000-0000-4000-8000-000000000000`, patch, ifMatch('"5"'));
    expect(missing.status).toBe(404);
    expect((await t.http.delete(`/v1/${r}/00000000-0000-4000-8000-000000000000`, ifMatch('"5"'))).status).toBe(404);

    const deleted = await t.http.delete(`/v1/${r}/${created.id}`, ifMatch('"5"'));
    expect(deleted.status).toBe(200);
    const [row] = await t.dataSource.query(`SELECT version FROM ${r} WHERE id = $1`, [created.id]);
    expect(row.version).toBe(6);
    // Trashed: 404 whatever the If-Match says.
    expect((await t.http.patch(`/v1/${r}/${created.id}`, patch, ifMatch('"6"'))).status).toBe(404);
    const restored = await t.http.post(`/v1/${r}/${created.id}/restore`, undefined, { token });
    expect(restored.body.data.version).toBe(7);
  });

  it('OpenAPI documents version, ETag, If-Match and 412 on every CRM resource', async () => {
    const doc = (await t.http.get('/docs-json')).body;
    for (const [r] of RESOURCES) {
      const item = doc.paths[`/v1/${r}/{id}`];
      expect(item.get.responses['200'].headers.ETag).toBeDefined();
      for (const method of ['patch', 'delete']) {
        expect(item[method].parameters).toEqual(
          expect.arrayContaining([expect.objectContaining({ name: 'If-Match', in: 'header', required: false })]),
        );
        expect(Object.keys(item[method].responses)).toEqual(expect.arrayContaining(['400', '404', '412']));
      }
    }
    const schema = doc.components.schemas.ClientResponse;
    expect(schema.properties.version).toMatchObject({ type: 'integer', readOnly: true });
    expect(schema.properties.assignedTo).toMatchObject({ format: 'uuid', nullable: true });
  });

  it('two PATCHes with the same If-Match in parallel: exactly one 200, one 412 (20 rounds)', async () => {
    for (let round = 0; round < 20; round++) {
      const created = (await t.http.post('/v1/clients', { firstName: 'Race', lastName: `${round}` }, { token })).body
        .data;
      const results = await Promise.all([
        t.http.patch(`/v1/clients/${created.id}`, { notes: 'first' }, ifMatch('"1"')),
        t.http.patch(`/v1/clients/${created.id}`, { notes: 'second' }, ifMatch('"1"')),
      ]);
      const statuses = results.map((res) => res.status).sort();
      expect(statuses).toEqual([200, 412]);
      const winner = results.find((res) => res.status === 200)!;
      const now = (await t.http.get(`/v1/clients/${created.id}`, { token })).body.data;
      expect(now).toEqual(winner.body.data);
      expect(now.version).toBe(2);
      // One CREATE and exactly one UPDATE in the trail.
      expect(await auditCount(created.id)).toBe(2);
    }
  });

  it('PATCH and DELETE racing with the same If-Match: exactly one wins', async () => {
    for (let round = 0; round < 10; round++) {
      const created = (await t.http.post('/v1/listings', { address: `Race ${round}` }, { token })).body.data;
      const [patched, deleted] = await Promise.all([
        t.http.patch(`/v1/listings/${created.id}`, { city: 'Won' }, ifMatch('"1"')),
        t.http.delete(`/v1/listings/${created.id}`, ifMatch('"1"')),
      ]);
      const statuses = [patched.status, deleted.status];
      // The loser sees either the new version (412) or, after the delete, no live record (404).
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.every((s) => [200, 404, 412].includes(s))).toBe(true);
      const [row] = await t.dataSource.query(`SELECT version, deleted_at, city FROM listings WHERE id = $1`, [
        created.id,
      ]);
      expect(row.version).toBe(2);
      expect(row.deleted_at === null).toBe(patched.status === 200);
      expect(await auditCount(created.id)).toBe(2);
    }
  });
});
