import { STRONG_PASSWORD, type SignedIn, loginOk, registerTeam, uniqueEmail } from './helpers/auth';
import { listAll } from './helpers/crm-cases';
import { parseCsv } from './helpers/csv';
import { enrolMfa } from './helpers/mfa';
import { type TestApp, startTestApp } from './helpers/test-app';

type Row = Record<string, any>;

/**
 * Activities and tasks over HTTP: the shapes and defaults, every bad input as a 400 in the envelope, links
 * checked against the caller's team and visibility (404), the list filters against an independent reading of
 * the rows, the server-kept completedAt, API key scopes, and agents under 'assigned' visibility.
 */
describe('activities and tasks', () => {
  let t: TestApp;
  let admin: SignedIn;
  let codes: string[];
  let clientId: string;
  let leadId: string;
  let listingId: string;
  let escrowId: string;

  const post = async (path: string, body: unknown, token = admin.accessToken) => t.http.post(path, body, { token });
  const created = async (path: string, body: unknown, token = admin.accessToken): Promise<Row> => {
    const res = await post(path, body, token);
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${res.text}`);
    return res.body.data;
  };
  const keyWith = async (scopes: string[]) => {
    const res = await t.http.post(
      '/v1/api-keys',
      { name: scopes.join(' '), scopes, otp: codes.shift()! },
      { token: admin.accessToken },
    );
    if (res.status !== 201) throw new Error(`key: ${res.status} ${res.text}`);
    return res.body.data as { id: string; key: string };
  };
  const addUser = async (role: 'agent' | 'viewer'): Promise<SignedIn> => {
    const email = uniqueEmail(role);
    const res = await post('/v1/users', { email, password: STRONG_PASSWORD, firstName: 'Role', lastName: role, role });
    if (res.status !== 201) throw new Error(`add ${role}: ${res.status} ${res.text}`);
    return loginOk(t, email, STRONG_PASSWORD);
  };
  const expect400 = (res: { status: number; body: any }) => {
    expect(res.status).toBe(400);
    expect(res.body.success).toBe(false);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
  };

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerTeam(t);
    codes = (await enrolMfa(t, admin.accessToken)).backupCodes;
    clientId = (await created('/v1/clients', { firstName: 'Cora', lastName: 'Client' })).id;
    leadId = (await created('/v1/leads', { firstName: 'Lee', lastName: 'Lead' })).id;
    listingId = (await created('/v1/listings', { address: '1 Elm Street' })).id;
    escrowId = (await created('/v1/escrows', { propertyAddress: '1 Elm Street', clientId, listingId })).id;
  });
  afterAll(() => t.close());

  describe('activities', () => {
    it('create: the API shape, authorId = the creating user, defaults (occurredAt now, assignedTo the caller, version 1)', async () => {
      const before = Date.now();
      const res = await post('/v1/activities', { type: 'call', subject: 'Intro call', clientId, durationMinutes: 15 });
      expect(res.status).toBe(201);
      const a = res.body.data;
      expect(a).toMatchObject({
        type: 'call',
        subject: 'Intro call',
        body: null,
        durationMinutes: 15,
        outcome: null,
        clientId,
        leadId: null,
        listingId: null,
        escrowId: null,
        authorId: admin.userId,
        apiKeyId: null,
        createdBy: admin.userId,
        assignedTo: admin.userId,
        version: 1,
      });
      expect(a).not.toHaveProperty('deletedAt');
      expect(a).not.toHaveProperty('teamId');
      expect(a).not.toHaveProperty('search');
      expect(new Date(a.occurredAt).getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(new Date(a.occurredAt).getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      const got = await t.http.get(`/v1/activities/${a.id}`, { token: admin.accessToken });
      expect(got.body.data).toEqual(a);
      // One CREATE audit row of type activity.
      const audit = await t.dataSource.query(`SELECT action, resource_type FROM audit_log WHERE resource_id = $1`, [
        a.id,
      ]);
      expect(audit).toEqual([{ action: 'CREATE', resource_type: 'activity' }]);
    });

    it('authorId and apiKeyId are read-only: a body setting them is 400 and nothing is written', async () => {
      const n = async () => (await t.dataSource.query(`SELECT count(*)::int AS n FROM activities`))[0].n;
      const count = await n();
      expect400(await post('/v1/activities', { type: 'note', clientId, authorId: admin.userId }));
      expect400(await post('/v1/activities', { type: 'note', clientId, apiKeyId: admin.userId }));
      expect400(await post('/v1/activities', { type: 'note', clientId, createdBy: admin.userId }));
      expect(await n()).toBe(count);
    });

    it('an API key logs as itself: apiKeyId set, authorId null', async () => {
      const { id, key } = await keyWith(['activities:write', 'activities:read']);
      const res = await t.http.post('/v1/activities', { type: 'email', leadId }, { apiKey: key });
      expect(res.status).toBe(201);
      expect(res.body.data).toMatchObject({ apiKeyId: id, authorId: null, assignedTo: null, leadId });
    });

    it('bad input is 400 VALIDATION_ERROR in the envelope', async () => {
      const bad: Array<[string, Row]> = [
        ['no link', { type: 'note', subject: 'About nothing' }],
        ['all links null', { type: 'note', clientId: null, leadId: null, listingId: null, escrowId: null }],
        ['no type', { clientId }],
        ['unknown type', { type: 'fax', clientId }],
        ['type null', { type: null, clientId }],
        ['body too long', { type: 'note', clientId, body: 'x'.repeat(10_001) }],
        ['negative duration', { type: 'call', clientId, durationMinutes: -1 }],
        ['fractional duration', { type: 'call', clientId, durationMinutes: 1.5 }],
        ['occurredAt not ISO', { type: 'call', clientId, occurredAt: 'yesterday' }],
        ['occurredAt without zone', { type: 'call', clientId, occurredAt: '2025-01-01T10:00:00' }],
        ['clientId not a uuid', { type: 'call', clientId: 'abc' }],
        ['escrowId not a uuid', { type: 'call', escrowId: `${escrowId}x` }],
        ['unknown field', { type: 'call', clientId, mood: 'great' }],
      ];
      for (const [label, body] of bad) {
        const res = await post('/v1/activities', body);
        if (res.status !== 400) throw new Error(`${label}: ${res.status} ${res.text}`);
        expect400(res);
      }
      // The link rule names the fields.
      const none = await post('/v1/activities', { type: 'note' });
      expect(none.body.error.message).toMatch(/clientId, leadId, listingId, escrowId/);
    });

    it("a link to another team's record, or to a trashed one, is 404 and writes nothing", async () => {
      const other = await registerTeam(t);
      const theirs = await created('/v1/clients', { firstName: 'Their', lastName: 'Client' }, other.accessToken);
      const theirListing = await created('/v1/listings', { address: '9 Far Away' }, other.accessToken);
      for (const body of [
        { type: 'note', clientId: theirs.id },
        { type: 'note', listingId: theirListing.id },
        { type: 'note', clientId, listingId: theirListing.id },
        { type: 'note', escrowId: '00000000-0000-4000-8000-000000000000' },
      ]) {
        const res = await post('/v1/activities', body);
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('NOT_FOUND');
      }
      const trashed = await created('/v1/clients', { firstName: 'Soon', lastName: 'Gone' });
      expect((await t.http.delete(`/v1/clients/${trashed.id}`, { token: admin.accessToken })).status).toBe(200);
      expect((await post('/v1/activities', { type: 'note', clientId: trashed.id })).status).toBe(404);
      const rows = await t.dataSource.query(
        `SELECT 1 FROM activities WHERE client_id = ANY($1) OR listing_id = $2 OR escrow_id = '00000000-0000-4000-8000-000000000000'`,
        [[theirs.id, trashed.id], theirListing.id],
      );
      expect(rows).toEqual([]);
      // And another team's activity is 404 on every route.
      const theirActivity = await created('/v1/activities', { type: 'note', clientId: theirs.id }, other.accessToken);
      expect((await t.http.get(`/v1/activities/${theirActivity.id}`, { token: admin.accessToken })).status).toBe(404);
      expect(
        (await t.http.patch(`/v1/activities/${theirActivity.id}`, { subject: 'x' }, { token: admin.accessToken }))
          .status,
      ).toBe(404);
      expect((await t.http.delete(`/v1/activities/${theirActivity.id}`, { token: admin.accessToken })).status).toBe(
        404,
      );
    });

    it('PATCH may move links but never leave none (400, row unchanged); null clears optional fields', async () => {
      const a = await created('/v1/activities', { type: 'meeting', clientId, outcome: 'booked' });
      const cleared = await t.http.patch(`/v1/activities/${a.id}`, { clientId: null }, { token: admin.accessToken });
      expect400(cleared);
      expect(cleared.body.error.message).toMatch(/at least one of clientId, leadId, listingId, escrowId/);
      expect((await t.http.get(`/v1/activities/${a.id}`, { token: admin.accessToken })).body.data.version).toBe(1);
      const moved = await t.http.patch(
        `/v1/activities/${a.id}`,
        { clientId: null, listingId, outcome: null },
        { token: admin.accessToken },
      );
      expect(moved.status).toBe(200);
      expect(moved.body.data).toMatchObject({ clientId: null, listingId, outcome: null, version: 2 });
      expect400(await t.http.patch(`/v1/activities/${a.id}`, { type: 'fax' }, { token: admin.accessToken }));
      expect400(await t.http.patch(`/v1/activities/${a.id}`, { occurredAt: null }, { token: admin.accessToken }));
      expect400(await t.http.patch(`/v1/activities/${a.id}`, { authorId: null }, { token: admin.accessToken }));
    });

    it('list filters select exactly the matching rows; bad filter values are 400', async () => {
      const team = await registerTeam(t);
      const token = team.accessToken;
      const c = await created('/v1/clients', { firstName: 'F', lastName: 'C' }, token);
      const l = await created('/v1/leads', { firstName: 'F', lastName: 'L' }, token);
      const li = await created('/v1/listings', { address: '5 Filter Way' }, token);
      const es = await created('/v1/escrows', { propertyAddress: '5 Filter Way' }, token);
      const types = ['note', 'call', 'email', 'text', 'meeting', 'showing'];
      const links = [{ clientId: c.id }, { leadId: l.id }, { listingId: li.id }, { escrowId: es.id }];
      for (let i = 0; i < 24; i++) {
        await created(
          '/v1/activities',
          {
            type: types[i % types.length],
            ...links[i % links.length],
            ...(i % 5 === 0 ? { clientId: c.id } : {}),
            subject: i % 3 === 0 ? `Quarterly review ${i}` : `Follow-up ${i}`,
            occurredAt: new Date(Date.UTC(2025, 0, 1 + i, 12)).toISOString(),
          },
          token,
        );
      }
      const all = await listAll(t, token, '/v1/activities');
      expect(all).toHaveLength(24);
      const cases: Array<[string, (r: Row) => boolean]> = [
        ['type=call', (r) => r.type === 'call'],
        [`clientId=${c.id}`, (r) => r.clientId === c.id],
        [`leadId=${l.id}`, (r) => r.leadId === l.id],
        [`listingId=${li.id}`, (r) => r.listingId === li.id],
        [`escrowId=${es.id}`, (r) => r.escrowId === es.id],
        [`authorId=${team.userId}`, () => true],
        [`authorId=${admin.userId}`, () => false],
        ['from=2025-01-10T12:00:00.000Z', (r) => r.occurredAt >= '2025-01-10T12:00:00.000Z'],
        ['to=2025-01-05T12:00:00.000Z', (r) => r.occurredAt <= '2025-01-05T12:00:00.000Z'],
        [
          'from=2025-01-03T00:00:00Z&to=2025-01-08T00:00:00Z&type=email',
          (r) => r.occurredAt >= '2025-01-03' && r.occurredAt <= '2025-01-08' && r.type === 'email',
        ],
        ['q=quarterly', (r) => /quarterly/i.test(r.subject)],
        ['assignedTo=me', () => true],
        ['assignedTo=none', () => false],
      ];
      for (const [query, match] of cases) {
        const got = (await listAll(t, token, '/v1/activities', query, 7)).map((r) => r.id).sort();
        const want = all
          .filter(match)
          .map((r) => r.id)
          .sort();
        expect({ query, ids: got }).toEqual({ query, ids: want });
      }
      // occurredAt sort, both ways.
      const asc = await listAll(t, token, '/v1/activities', 'sort=occurredAt', 5);
      expect(asc.map((r) => r.occurredAt)).toEqual(all.map((r) => r.occurredAt).sort());
      for (const bad of [
        'type=fax',
        'clientId=nope',
        'authorId=123',
        'from=yesterday',
        'to=2025-13-01T00:00:00Z',
        'sort=subject',
        'assignedTo=someone',
        'limit=0',
        'limit=101',
        'cursor=garbage',
        'color=red',
      ]) {
        const res = await t.http.get(`/v1/activities?${bad}`, { token });
        if (res.status !== 400) throw new Error(`${bad}: ${res.status} ${res.text}`);
        expect400(res);
      }
    });

    it('export: CSV of the filtered activities with authorId and apiKeyId columns', async () => {
      const a = await created('/v1/activities', { type: 'showing', listingId, subject: 'Export, "quoted"' });
      const res = await t.http.get(`/v1/activities/export?listingId=${listingId}&type=showing`, {
        token: admin.accessToken,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/csv/);
      const [header, ...rows] = parseCsv(res.text).filter((r) => r.length > 1);
      expect(header).toEqual(expect.arrayContaining(['id', 'type', 'subject', 'listingId', 'authorId', 'apiKeyId']));
      expect(header).not.toContain('deletedAt');
      const row = rows.find((r) => r[header!.indexOf('id')] === a.id)!;
      expect(row[header!.indexOf('subject')]).toBe('Export, "quoted"');
      expect(row[header!.indexOf('authorId')]).toBe(admin.userId);
      expect(rows.every((r) => r[header!.indexOf('type')] === 'showing')).toBe(true);
    });

    it('delete moves to the trash (gone from get and list), restore brings it back', async () => {
      const a = await created('/v1/activities', { type: 'note', clientId, subject: 'Trash me' });
      expect((await t.http.delete(`/v1/activities/${a.id}`, { token: admin.accessToken })).status).toBe(200);
      expect((await t.http.get(`/v1/activities/${a.id}`, { token: admin.accessToken })).status).toBe(404);
      const listed = await listAll(t, admin.accessToken, '/v1/activities', `clientId=${clientId}`);
      expect(listed.find((r) => r.id === a.id)).toBeUndefined();
      const trash = await t.http.get('/v1/activities/trash', { token: admin.accessToken });
      expect(trash.status).toBe(200);
      expect(trash.body.data.map((r: Row) => r.id)).toContain(a.id);
      const restored = await t.http.post(`/v1/activities/${a.id}/restore`, undefined, { token: admin.accessToken });
      expect(restored.status).toBe(200);
      expect(restored.body.data).toMatchObject({ id: a.id, subject: 'Trash me', authorId: admin.userId });
    });
  });

  describe('tasks', () => {
    it('create: defaults open / normal, assignedTo the caller, completedAt null; standalone tasks are fine', async () => {
      const res = await post('/v1/tasks', { title: 'Call the bank' });
      expect(res.status).toBe(201);
      expect(res.body.data).toMatchObject({
        title: 'Call the bank',
        dueAt: null,
        status: 'open',
        priority: 'normal',
        assignedTo: admin.userId,
        completedAt: null,
        clientId: null,
        leadId: null,
        listingId: null,
        escrowId: null,
        notes: null,
        version: 1,
      });
      expect(res.body.data).not.toHaveProperty('remindedForDueAt');
      // A past dueAt is accepted (overdue at once).
      const past = await post('/v1/tasks', { title: 'Late', dueAt: '2020-01-01T09:00:00Z', clientId });
      expect(past.status).toBe(201);
      expect(past.body.data.dueAt).toBe('2020-01-01T09:00:00.000Z');
    });

    it('bad input is 400 VALIDATION_ERROR in the envelope', async () => {
      const bad: Array<[string, Row]> = [
        ['no title', { dueAt: '2030-01-01T00:00:00Z' }],
        ['blank title', { title: '   ' }],
        ['title too long', { title: 'x'.repeat(201) }],
        ['dueAt not ISO', { title: 'T', dueAt: 'next friday' }],
        ['dueAt a number', { title: 'T', dueAt: 1735689600000 }],
        ['dueAt impossible date', { title: 'T', dueAt: '2025-02-30T10:00:00Z' }],
        ['priority invalid', { title: 'T', priority: 'urgent' }],
        ['status invalid', { title: 'T', status: 'closed' }],
        ['completedAt is read-only', { title: 'T', completedAt: '2025-01-01T00:00:00Z' }],
        ['assignedTo not a uuid', { title: 'T', assignedTo: 'me' }],
        ['notes too long', { title: 'T', notes: 'x'.repeat(10_001) }],
        ['unknown field', { title: 'T', dueDate: '2025-01-01T00:00:00Z' }],
      ];
      for (const [label, body] of bad) {
        const res = await post('/v1/tasks', body);
        if (res.status !== 400) throw new Error(`${label}: ${res.status} ${res.text}`);
        expect400(res);
      }
      const task = await created('/v1/tasks', { title: 'Patch me' });
      for (const body of [{ status: null }, { priority: null }, { title: null }, { completedAt: null }, {}]) {
        expect400(await t.http.patch(`/v1/tasks/${task.id}`, body, { token: admin.accessToken }));
      }
      // Unknown assignee or another team's user: 404 naming the field.
      const stranger = await registerTeam(t);
      for (const assignedTo of [stranger.userId, '00000000-0000-4000-8000-000000000000']) {
        const res = await post('/v1/tasks', { title: 'T', assignedTo });
        expect(res.status).toBe(404);
      }
    });

    it('completedAt follows the status: set on done (and audited), kept while done, cleared on reopen', async () => {
      const task = await created('/v1/tasks', { title: 'Send disclosures', clientId });
      const before = Date.now();
      const done = await t.http.patch(`/v1/tasks/${task.id}`, { status: 'done' }, { token: admin.accessToken });
      expect(done.status).toBe(200);
      const completedAt = done.body.data.completedAt as string;
      expect(new Date(completedAt).getTime()).toBeGreaterThanOrEqual(before - 1000);
      // Another change while done keeps the completion time.
      const renamed = await t.http.patch(`/v1/tasks/${task.id}`, { title: 'Sent' }, { token: admin.accessToken });
      expect(renamed.body.data.completedAt).toBe(completedAt);
      const again = await t.http.patch(`/v1/tasks/${task.id}`, { status: 'done' }, { token: admin.accessToken });
      expect(again.body.data.completedAt).toBe(completedAt);
      const reopened = await t.http.patch(`/v1/tasks/${task.id}`, { status: 'open' }, { token: admin.accessToken });
      expect(reopened.body.data.completedAt).toBeNull();
      const cancelled = await t.http.patch(
        `/v1/tasks/${task.id}`,
        { status: 'cancelled' },
        { token: admin.accessToken },
      );
      expect(cancelled.body.data.completedAt).toBeNull();
      // Created done: completed at creation.
      const born = await created('/v1/tasks', { title: 'Already done', status: 'done' });
      expect(born.completedAt).not.toBeNull();
      // The audit trail shows completedAt beside the status change.
      const [entry] = await t.dataSource.query(
        `SELECT old_values, new_values FROM audit_log
          WHERE resource_id = $1 AND action = 'UPDATE' ORDER BY created_at, id LIMIT 1`,
        [task.id],
      );
      expect(entry.old_values).toEqual({ status: 'open', completedAt: null });
      expect(entry.new_values).toEqual({ status: 'done', completedAt });
      // The database keeps the rule whatever the path: a raw write cannot break it.
      await expect(
        t.dataSource.query(`UPDATE tasks SET completed_at = NULL WHERE id = $1`, [born.id]),
      ).resolves.toBeDefined();
      const [row] = await t.dataSource.query(`SELECT completed_at FROM tasks WHERE id = $1`, [born.id]);
      expect(row.completed_at).not.toBeNull();
    });

    it('filters: status, priority, assignedTo me|none|id, dueBefore/dueAfter (half-open), overdue, links', async () => {
      const team = await registerTeam(t);
      await enrolMfa(t, team.accessToken);
      const token = team.accessToken;
      const agentEmail = uniqueEmail('agent');
      const agentRes = await t.http.post(
        '/v1/users',
        { email: agentEmail, password: STRONG_PASSWORD, firstName: 'A', lastName: 'Gent', role: 'agent' },
        { token },
      );
      expect(agentRes.status).toBe(201);
      const agentId = agentRes.body.data.id as string;
      const c = await created('/v1/clients', { firstName: 'F', lastName: 'C' }, token);
      const l = await created('/v1/leads', { firstName: 'F', lastName: 'L' }, token);
      const now = Date.now();
      const hour = 3_600_000;
      const statuses = ['open', 'done', 'cancelled'];
      const priorities = ['low', 'normal', 'high'];
      for (let i = 0; i < 27; i++) {
        await created(
          '/v1/tasks',
          {
            title: `Task ${i}`,
            status: statuses[i % 3],
            priority: priorities[Math.floor(i / 3) % 3],
            // Some overdue, some due later, some with no due date.
            dueAt: i % 4 === 3 ? null : new Date(now + (i - 13) * hour).toISOString(),
            assignedTo: i % 5 === 0 ? null : i % 5 === 1 ? agentId : undefined,
            ...(i % 2 === 0 ? { clientId: c.id } : { leadId: l.id }),
          },
          token,
        );
      }
      const all = await listAll(t, token, '/v1/tasks');
      expect(all).toHaveLength(27);
      const at = new Date(now).toISOString();
      const later = new Date(now + 5 * hour).toISOString();
      const overdue = (r: Row) => r.status === 'open' && r.dueAt !== null && r.dueAt < new Date().toISOString();
      const cases: Array<[string, (r: Row) => boolean]> = [
        ['status=open', (r) => r.status === 'open'],
        ['status=done', (r) => r.status === 'done'],
        ['priority=high', (r) => r.priority === 'high'],
        ['assignedTo=me', (r) => r.assignedTo === team.userId],
        ['assignedTo=none', (r) => r.assignedTo === null],
        [`assignedTo=${agentId}`, (r) => r.assignedTo === agentId],
        [`dueBefore=${at}`, (r) => r.dueAt !== null && r.dueAt < at],
        [`dueAfter=${at}`, (r) => r.dueAt !== null && r.dueAt >= at],
        [`dueAfter=${at}&dueBefore=${later}`, (r) => r.dueAt !== null && r.dueAt >= at && r.dueAt < later],
        ['overdue=true', overdue],
        ['overdue=false', (r) => !overdue(r)],
        ['overdue=true&assignedTo=me', (r) => overdue(r) && r.assignedTo === team.userId],
        [`clientId=${c.id}`, (r) => r.clientId === c.id],
        [`leadId=${l.id}&status=open`, (r) => r.leadId === l.id && r.status === 'open'],
        ['q=task 1', (r) => /task 1/i.test(r.title)],
      ];
      for (const [query, match] of cases) {
        const got = (await listAll(t, token, '/v1/tasks', query, 4)).map((r) => r.id).sort();
        const want = all
          .filter(match)
          .map((r) => r.id)
          .sort();
        expect({ query, ids: got }).toEqual({ query, ids: want });
      }
      // A half-open window: adjacent windows share no task and together cover the range.
      const w1 = await listAll(
        t,
        token,
        '/v1/tasks',
        `dueAfter=${new Date(now - 20 * hour).toISOString()}&dueBefore=${at}`,
      );
      const w2 = await listAll(
        t,
        token,
        '/v1/tasks',
        `dueAfter=${at}&dueBefore=${new Date(now + 20 * hour).toISOString()}`,
      );
      expect(w1.filter((r) => w2.some((s) => s.id === r.id))).toEqual([]);
      expect(w1.length + w2.length).toBe(all.filter((r) => r.dueAt !== null).length);
      // dueAt sort: soonest first, undated last; descending is the exact reverse.
      const asc = await listAll(t, token, '/v1/tasks', 'sort=dueAt', 4);
      const dated = asc.filter((r) => r.dueAt !== null);
      expect(dated.map((r) => r.dueAt)).toEqual([...dated.map((r) => r.dueAt)].sort());
      expect(asc.slice(dated.length).every((r) => r.dueAt === null)).toBe(true);
      const desc = await listAll(t, token, '/v1/tasks', 'sort=-dueAt', 4);
      expect(desc.map((r) => r.id)).toEqual(asc.map((r) => r.id).reverse());

      for (const bad of [
        'status=closed',
        'priority=urgent',
        'overdue=yes',
        'dueBefore=soon',
        'dueAfter=2025-02-30T00:00:00Z',
        'assignedTo=nobody',
        'clientId=1',
        'sort=title',
      ]) {
        const res = await t.http.get(`/v1/tasks?${bad}`, { token });
        if (res.status !== 400) throw new Error(`${bad}: ${res.status} ${res.text}`);
        expect400(res);
      }
    });
  });

  describe('permissions and visibility', () => {
    it('scopes: activities:read lists but cannot write; tasks:* works tasks and nothing else', async () => {
      const reader = await keyWith(['activities:read']);
      expect((await t.http.get('/v1/activities', { apiKey: reader.key })).status).toBe(200);
      const denied = await t.http.post('/v1/activities', { type: 'note', clientId }, { apiKey: reader.key });
      expect(denied.status).toBe(403);
      expect(denied.body.error).toEqual({ code: 'INSUFFICIENT_SCOPE', message: 'Requires activities:write' });
      expect((await t.http.get('/v1/tasks', { apiKey: reader.key })).body.error.message).toBe('Requires tasks:read');

      const tasker = await keyWith(['tasks:*']);
      const task = await t.http.post('/v1/tasks', { title: 'From the integration' }, { apiKey: tasker.key });
      expect(task.status).toBe(201);
      expect(task.body.data.assignedTo).toBeNull();
      expect((await t.http.delete(`/v1/tasks/${task.body.data.id}`, { apiKey: tasker.key })).status).toBe(200);
      expect((await t.http.get('/v1/activities', { apiKey: tasker.key })).status).toBe(403);
      expect((await t.http.get(`/v1/clients/${clientId}/timeline`, { apiKey: tasker.key })).status).toBe(403);
      // A scope list with the new resources is accepted; a misspelt one is not.
      const typo = await t.http.post(
        '/v1/api-keys',
        { name: 'typo', scopes: ['task:read'], otp: codes.shift()! },
        { token: admin.accessToken },
      );
      expect400(typo);
    });

    it('a viewer reads activities and tasks but cannot write them', async () => {
      const viewer = await addUser('viewer');
      expect((await t.http.get('/v1/activities', { token: viewer.accessToken })).status).toBe(200);
      expect((await t.http.get('/v1/tasks', { token: viewer.accessToken })).status).toBe(200);
      for (const [path, body] of [
        ['/v1/activities', { type: 'note', clientId }],
        ['/v1/tasks', { title: 'Nope' }],
      ] as const) {
        const res = await post(path, body, viewer.accessToken);
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe('FORBIDDEN');
      }
    });

    it("under 'assigned' visibility an agent sees activities and tasks assigned to them or linked to their records, and nothing else", async () => {
      const team = await registerTeam(t);
      await enrolMfa(t, team.accessToken);
      const token = team.accessToken;
      const email = uniqueEmail('agent');
      const res = await t.http.post(
        '/v1/users',
        { email, password: STRONG_PASSWORD, firstName: 'Ag', lastName: 'Ent', role: 'agent' },
        { token },
      );
      expect(res.status).toBe(201);
      const agentId = res.body.data.id as string;
      const agent = await loginOk(t, email, STRONG_PASSWORD);
      await t.dataSource.query(`UPDATE teams SET agent_visibility = 'assigned' WHERE id = $1`, [team.teamId]);

      const mine = await created('/v1/clients', { firstName: 'Mine', lastName: 'C', assignedTo: agentId }, token);
      const theirs = await created('/v1/clients', { firstName: 'Theirs', lastName: 'C' }, token);
      // Admin's activity on the agent's client: visible through the link.
      const onMine = await created('/v1/activities', { type: 'call', clientId: mine.id }, token);
      // Admin's activity on the admin's client: invisible.
      const onTheirs = await created('/v1/activities', { type: 'call', clientId: theirs.id }, token);
      // Assigned to the agent although the client is not theirs: visible through the assignment.
      const assigned = await created(
        '/v1/activities',
        { type: 'note', clientId: theirs.id, assignedTo: agentId },
        token,
      );
      const taskOnMine = await created('/v1/tasks', { title: 'On mine', clientId: mine.id }, token);
      const taskTheirs = await created('/v1/tasks', { title: 'Admin only' }, token);
      const taskForAgent = await created('/v1/tasks', { title: 'For agent', assignedTo: agentId }, token);

      const seen = (await listAll(t, agent.accessToken, '/v1/activities')).map((r) => r.id).sort();
      expect(seen).toEqual([onMine.id, assigned.id].sort());
      const seenTasks = (await listAll(t, agent.accessToken, '/v1/tasks')).map((r) => r.id).sort();
      expect(seenTasks).toEqual([taskOnMine.id, taskForAgent.id].sort());
      expect((await t.http.get(`/v1/activities/${onTheirs.id}`, { token: agent.accessToken })).status).toBe(404);
      expect((await t.http.get(`/v1/tasks/${taskTheirs.id}`, { token: agent.accessToken })).status).toBe(404);
      expect(
        (await t.http.patch(`/v1/tasks/${taskTheirs.id}`, { status: 'done' }, { token: agent.accessToken })).status,
      ).toBe(404);
      // Linking to a record the agent cannot see is 404, like another team's.
      expect((await post('/v1/activities', { type: 'note', clientId: theirs.id }, agent.accessToken)).status).toBe(404);
      // The agent logs on their own client, and may work the linked task.
      expect((await post('/v1/activities', { type: 'note', clientId: mine.id }, agent.accessToken)).status).toBe(201);
      const worked = await t.http.patch(`/v1/tasks/${taskOnMine.id}`, { status: 'done' }, { token: agent.accessToken });
      expect(worked.status).toBe(200);
      // Under 'team' the agent sees everything again.
      await t.dataSource.query(`UPDATE teams SET agent_visibility = 'team' WHERE id = $1`, [team.teamId]);
      expect((await t.http.get(`/v1/activities/${onTheirs.id}`, { token: agent.accessToken })).status).toBe(200);
    });
  });
});
