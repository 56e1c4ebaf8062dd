import { ManualClock } from '../src/common/time/clock';
import { loadConfig } from '../src/config/app-config';
import { CrmTrashPurge } from '../src/modules/crm/common/crm-trash-purge.service';
import { STRONG_PASSWORD, type SignedIn, loginOk, registerTeam, uniqueEmail } from './helpers/auth';
import { verifyChains } from './helpers/crm';
import { type HttpResponse } from './helpers/http';
import { enrolMfa } from './helpers/mfa';
import { TEST_ENCRYPTION_KEY, TEST_JWT_SECRET, type TestApp, startTestApp } from './helpers/test-app';

const RESOURCES: Array<[string, Record<string, unknown>]> = [
  ['clients', { firstName: 'Tra', lastName: 'Shed' }],
  ['leads', { firstName: 'Lea', lastName: 'Gone' }],
  ['appointments', { title: 'Binned', startsAt: '2031-03-04T10:00:00Z' }],
  ['escrows', { propertyAddress: '9 Bin Road' }],
  ['listings', { address: '10 Bin Road' }],
];
const DAY = 86_400_000;

/**
 * DELETE moves a record to the trash (one UPDATE with its DELETE audit row): it is 404 to list, get, export,
 * update and delete, listed by GET /trash, and POST /:id/restore brings it back (RESTORE audit row). The daily
 * purge deletes what has been in the trash longer than TRASH_RETENTION_DAYS, with PURGE audit rows, skipping
 * rows something still references. Unique values only count live rows.
 */
describe('CRM trash', () => {
  let t: TestApp;
  let admin: SignedIn;
  let token: string;
  let readKey: string;
  let deleteKey: string;
  let viewer: SignedIn;

  const audit = (id: string) =>
    t.dataSource.query<Array<{ action: string; old_values: any; new_values: any }>>(
      `SELECT action, old_values, new_values FROM audit_log WHERE resource_id = $1 ORDER BY seq`,
      [id],
    );

  beforeAll(async () => {
    t = await startTestApp({ env: { REQUIRE_MFA_FOR_ADMIN_ACTIONS: 'false' } });
    admin = await registerTeam(t, { teamName: 'Trash' });
    token = admin.accessToken;
    const email = uniqueEmail('viewer');
    await t.http.post(
      '/v1/users',
      { email, password: STRONG_PASSWORD, firstName: 'V', lastName: 'V', role: 'viewer' },
      { token },
    );
    viewer = await loginOk(t, email, STRONG_PASSWORD);
    const { backupCodes } = await enrolMfa(t, token);
    const key = async (scopes: string[], otp: string) =>
      (await t.http.post('/v1/api-keys', { name: scopes.join(), scopes, otp }, { token })).body.data.key as string;
    readKey = await key(['*:read', '*:write'], backupCodes[0]!);
    deleteKey = await key(['*:read', 'listings:delete'], backupCodes[1]!);
  });
  afterAll(() => t?.close());

  it.each(RESOURCES)('%s: delete → trash (404 everywhere) → restore, each with its audit row', async (r, body) => {
    const created = (await t.http.post(`/v1/${r}`, body, { token })).body.data;
    const removed = await t.http.delete(`/v1/${r}/${created.id}`, { token });
    expect(removed.status).toBe(200);
    expect(removed.body.data).toEqual({ id: created.id, deleted: true });

    const [row] = await t.dataSource.query(`SELECT deleted_at, version FROM ${r} WHERE id = $1`, [created.id]);
    expect(row.deleted_at).toBeInstanceOf(Date);
    expect(row.version).toBe(2);
    for (const res of [
      await t.http.get(`/v1/${r}/${created.id}`, { token }),
      await t.http.patch(`/v1/${r}/${created.id}`, body, { token }),
      await t.http.delete(`/v1/${r}/${created.id}`, { token }),
      await t.http.delete(`/v1/${r}/${created.id}`, { token, headers: { 'if-match': '"2"' } }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    const list = await t.http.get(`/v1/${r}?limit=100&includeTotal=true`, { token });
    expect(list.body.data.map((x: { id: string }) => x.id)).not.toContain(created.id);
    expect(list.body.meta.total).toBe(list.body.data.length);
    const csv = await t.http.get(`/v1/${r}/export`, { token });
    expect(csv.status).toBe(200);
    expect(csv.text).not.toContain(created.id);

    const trash = await t.http.get(`/v1/${r}/trash`, { token });
    expect(trash.status).toBe(200);
    const trashed = trash.body.data.find((x: { id: string }) => x.id === created.id);
    expect(trashed).toMatchObject({ ...created, version: 2, deletedAt: expect.any(String) });
    expect(new Date(trashed.deletedAt).toISOString()).toBe(trashed.deletedAt);

    const restored = await t.http.post(`/v1/${r}/${created.id}/restore`, undefined, { token });
    expect(restored.status).toBe(200);
    expect(restored.body.data).toEqual({ ...created, version: 3 });
    expect(restored.headers.get('etag')).toBe('"3"');
    expect((await t.http.get(`/v1/${r}/${created.id}`, { token })).body.data).toEqual(restored.body.data);
    expect((await t.http.get(`/v1/${r}/trash`, { token })).body.data.map((x: { id: string }) => x.id)).not.toContain(
      created.id,
    );
    // Restoring a live record again, an unknown id, or a malformed one.
    expect((await t.http.post(`/v1/${r}/${created.id}/restore`, undefined, { token })).status).toBe(404);
    expect(
      (await t.http.post(`/v1/${r}/00000000-0000-4000-8000-000000000000/restore`, undefined, { token })).status,
    ).toBe(404);
    expect((await t.http.post(`/v1/${r}/not-a-uuid/restore`, undefined, { token })).status).toBe(400);

    const trail = await audit(created.id);
    expect(trail.map((a) => a.action)).toEqual(['CREATE', 'DELETE', 'RESTORE']);
    // The DELETE row holds the record as it was deleted (version 1); the trashed row itself is version 2.
    expect(trail[1]!.old_values).toEqual(created);
    expect(trail[1]!.new_values).toBeNull();
    expect(trail[2]!.new_values).toMatchObject({ id: created.id, version: 3 });
  });

  it('the trash list pages by deletion time without gaps; only callers who may delete see it or restore', async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = (await t.http.post('/v1/listings', { address: `Page ${i}` }, { token })).body.data.id;
      expect((await t.http.delete(`/v1/listings/${id}`, { token })).status).toBe(200);
      made.push(id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: HttpResponse = await t.http.get(
        `/v1/listings/trash?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { apiKey: deleteKey },
      );
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((x: { id: string }) => x.id));
      cursor = res.body.meta.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    // Most recently deleted first.
    expect(seen.filter((id) => made.includes(id))).toEqual([...made].reverse());
    // A list cursor is not a trash cursor.
    const listPage = await t.http.get('/v1/listings?limit=1', { token });
    expect(
      (await t.http.get(`/v1/listings/trash?cursor=${encodeURIComponent(listPage.body.meta.nextCursor)}`, { token }))
        .status,
    ).toBe(400);

    for (const res of [
      await t.http.get('/v1/listings/trash', { token: viewer.accessToken }),
      await t.http.post(`/v1/listings/${made[0]}/restore`, undefined, { token: viewer.accessToken }),
      await t.http.get('/v1/listings/trash', { apiKey: readKey }),
      await t.http.post(`/v1/listings/${made[0]}/restore`, undefined, { apiKey: readKey }),
      await t.http.get('/v1/clients/trash', { apiKey: deleteKey }),
    ])
      expect(res.status).toBe(403);
    expect((await t.http.post(`/v1/listings/${made[0]}/restore`, undefined, { apiKey: deleteKey })).status).toBe(200);
  });

  it('a trashed twin never blocks re-creating (same MLS number); restoring the first then is 409', async () => {
    const first = (await t.http.post('/v1/listings', { address: 'Twin 1', mlsNumber: 'MLS-TWIN' }, { token })).body
      .data;
    expect((await t.http.post('/v1/listings', { address: 'Twin 2', mlsNumber: 'MLS-TWIN' }, { token })).status).toBe(
      409,
    );
    expect((await t.http.delete(`/v1/listings/${first.id}`, { token })).status).toBe(200);
    const second = await t.http.post('/v1/listings', { address: 'Twin 2', mlsNumber: 'MLS-TWIN' }, { token });
    expect(second.status).toBe(201);
    const back = await t.http.post(`/v1/listings/${first.id}/restore`, undefined, { token });
    expect(back.status).toBe(409);
    expect(back.body.error.code).toBe('CONFLICT');
    expect(back.body.error.message).toMatch(/mlsNumber/);
    // Still in the trash, unchanged.
    const [row] = await t.dataSource.query(`SELECT deleted_at, version FROM listings WHERE id = $1`, [first.id]);
    expect(row.deleted_at).not.toBeNull();
    expect(row.version).toBe(2);
    // The same for escrow numbers.
    const e1 = (await t.http.post('/v1/escrows', { propertyAddress: 'E', escrowNumber: 'ESC-1' }, { token })).body.data;
    await t.http.delete(`/v1/escrows/${e1.id}`, { token });
    expect((await t.http.post('/v1/escrows', { propertyAddress: 'E', escrowNumber: 'ESC-1' }, { token })).status).toBe(
      201,
    );
  });

  it('the purge removes rows trashed longer than TRASH_RETENTION_DAYS with PURGE audit rows, skipping referenced ones', async () => {
    const purge = t.app.get(CrmTrashPurge);
    const client = (await t.http.post('/v1/clients', { firstName: 'Parent', lastName: 'P' }, { token })).body.data;
    const appt = (
      await t.http.post(
        '/v1/appointments',
        { title: 'Child', startsAt: '2031-05-01T10:00:00Z', clientId: client.id },
        { token },
      )
    ).body.data;
    const lonely = (await t.http.post('/v1/leads', { firstName: 'Old', lastName: 'Lead' }, { token })).body.data;
    const fresh = (await t.http.post('/v1/leads', { firstName: 'Fresh', lastName: 'Lead' }, { token })).body.data;
    for (const [r, id] of [
      ['clients', client.id],
      ['leads', lonely.id],
      ['leads', fresh.id],
    ])
      expect((await t.http.delete(`/v1/${r}/${id}`, { token })).status).toBe(200);
    // Age two of them past the 90-day default (the fresh one stays recent).
    await t.dataSource.query(`UPDATE clients SET deleted_at = now() - interval '91 days' WHERE id = $1`, [client.id]);
    await t.dataSource.query(`UPDATE leads SET deleted_at = now() - interval '91 days' WHERE id = $1`, [lonely.id]);

    const first = await purge.purge();
    expect(first.leads).toBeGreaterThanOrEqual(1);
    const exists = async (table: string, id: string) =>
      (await t.dataSource.query(`SELECT 1 FROM ${table} WHERE id = $1`, [id])).length === 1;
    expect(await exists('leads', lonely.id)).toBe(false);
    expect(await exists('leads', fresh.id)).toBe(true);
    // The client is still referenced by a live appointment: kept, and still restorable.
    expect(await exists('clients', client.id)).toBe(true);
    expect((await t.http.get('/v1/clients/trash?limit=100', { token })).body.data.map((x: any) => x.id)).toContain(
      client.id,
    );

    const purgedTrail = await audit(lonely.id);
    expect(purgedTrail.map((a) => a.action)).toEqual(['CREATE', 'DELETE', 'PURGE']);
    expect(purgedTrail[2]!.old_values).toMatchObject({ id: lonely.id, firstName: 'Old' });
    const [purgeRow] = await t.dataSource.query(
      `SELECT user_id, api_key_id, team_id FROM audit_log WHERE resource_id = $1 AND action = 'PURGE'`,
      [lonely.id],
    );
    expect(purgeRow).toEqual({ user_id: null, api_key_id: null, team_id: admin.teamId });
    // Purged is gone for good.
    expect((await t.http.post(`/v1/leads/${lonely.id}/restore`, undefined, { token })).status).toBe(404);

    // Once the child is trashed and old too, one run purges both (child first, then the parent).
    expect((await t.http.delete(`/v1/appointments/${appt.id}`, { token })).status).toBe(200);
    await t.dataSource.query(`UPDATE appointments SET deleted_at = now() - interval '91 days' WHERE id = $1`, [
      appt.id,
    ]);
    const second = await purge.purge();
    expect(second.appointments).toBeGreaterThanOrEqual(1);
    expect(second.clients).toBeGreaterThanOrEqual(1);
    expect(await exists('appointments', appt.id)).toBe(false);
    expect(await exists('clients', client.id)).toBe(false);
    // A run "91 days from now" takes the fresh one too; nothing is left behind in the trash.
    await purge.purge(new Date(Date.now() + 91 * DAY));
    expect(await exists('leads', fresh.id)).toBe(false);
    const [{ n }] = await t.dataSource.query(
      `SELECT (SELECT count(*) FROM leads WHERE team_id = $1 AND deleted_at IS NOT NULL)::int AS n`,
      [admin.teamId],
    );
    expect(n).toBe(0);
    expect((await verifyChains(t, admin.teamId)).ok).toBe(true);
  });

  it('TRASH_RETENTION_DAYS: default 90, decimals allowed, negative refused', () => {
    const base = {
      NODE_ENV: 'test',
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      DATA_DIR: t.dataDir,
    };
    expect(loadConfig(base).trash.retentionMs).toBe(90 * DAY);
    expect(loadConfig({ ...base, TRASH_RETENTION_DAYS: '0.5' }).trash.retentionMs).toBe(DAY / 2);
    expect(() => loadConfig({ ...base, TRASH_RETENTION_DAYS: '-1' })).toThrow(/TRASH_RETENTION_DAYS/);
  });
});

/** The trash purge on a ManualClock: nothing is back-dated, time moves past TRASH_RETENTION_DAYS. */
describe('CRM trash purge follows the clock', () => {
  const clock = new ManualClock();
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ clock, env: { TRASH_RETENTION_DAYS: '90' } });
  });
  afterAll(() => t?.close());

  it('a trashed record stays restorable for TRASH_RETENTION_DAYS, then the daily purge removes it', async () => {
    const { accessToken: token } = await registerTeam(t);
    const lead = (await t.http.post('/v1/leads', { firstName: 'Clock', lastName: 'Work' }, { token })).body.data;
    expect((await t.http.delete(`/v1/leads/${lead.id}`, { token })).status).toBe(200);
    const exists = async () => (await t.dataSource.query(`SELECT 1 FROM leads WHERE id = $1`, [lead.id])).length === 1;
    const purge = t.app.get(CrmTrashPurge);

    clock.advance(89 * DAY);
    expect((await purge.purge()).leads ?? 0).toBe(0);
    expect(await exists()).toBe(true);
    clock.advance(2 * DAY);
    expect((await purge.purge()).leads).toBe(1);
    expect(await exists()).toBe(false);
  });
});
