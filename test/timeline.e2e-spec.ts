import { STRONG_PASSWORD, type SignedIn, loginOk, registerTeam, uniqueEmail } from './helpers/auth';
import { enrolMfa } from './helpers/mfa';
import { type TestApp, startTestApp } from './helpers/test-app';

type Row = Record<string, any>;
interface Item {
  kind: string;
  at: string;
  data: Row;
}

/**
 * GET /v1/<clients|leads|listings|escrows>/:id/timeline: activities, appointments, tasks and field changes of
 * one record, newest first, in keyset pages. The expected order is computed here from each table on its own
 * (microsecond keys), and the pages must reproduce it exactly: no duplicate, no gap, ties broken by id.
 */
describe('record timelines', () => {
  let t: TestApp;
  let admin: SignedIn;

  const created = async (path: string, body: unknown, token = admin.accessToken): Promise<Row> => {
    const res = await t.http.post(path, body, { token });
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${res.text}`);
    return res.body.data;
  };
  const patched = async (path: string, body: unknown, token = admin.accessToken): Promise<Row> => {
    const res = await t.http.patch(path, body, { token });
    if (res.status !== 200) throw new Error(`PATCH ${path}: ${res.status} ${res.text}`);
    return res.body.data;
  };
  /** Every page, following nextCursor; also returns the page sizes. */
  const walk = async (path: string, limit: number, auth: { token?: string; apiKey?: string } = {}) => {
    const items: Item[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const qs: string = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res: { status: number; text: string; body: any } = await t.http.get(
        `${path}?${qs}`,
        auth.apiKey ? { apiKey: auth.apiKey } : { token: auth.token ?? admin.accessToken },
      );
      if (res.status !== 200) throw new Error(`GET ${path}?${qs}: ${res.status} ${res.text}`);
      items.push(...res.body.data);
      sizes.push(res.body.data.length);
      expect(res.body.meta.limit).toBe(limit);
      cursor = res.body.meta.nextCursor ?? null;
    } while (cursor);
    return { items, sizes };
  };
  const entryId = (item: Item) => item.data.id as string;

  /** What the timeline of a client must list, from the tables one by one (the owner role sees everything). */
  const expectedFor = async (
    column: 'client_id' | 'lead_id' | 'listing_id' | 'escrow_id',
    id: string,
    auditType: string,
  ) => {
    const us = (expr: string) => `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;
    const parts: Array<{ kind: string; id: string; k: string }> = [];
    for (const r of await t.dataSource.query(
      `SELECT id, ${us('occurred_at')} AS k FROM activities WHERE ${column} = $1 AND deleted_at IS NULL`,
      [id],
    ))
      parts.push({ kind: 'activity', id: r.id, k: r.k });
    if (column === 'client_id' || column === 'lead_id')
      for (const r of await t.dataSource.query(
        `SELECT id, ${us('starts_at')} AS k FROM appointments WHERE ${column} = $1 AND deleted_at IS NULL`,
        [id],
      ))
        parts.push({ kind: 'appointment', id: r.id, k: r.k });
    for (const r of await t.dataSource.query(
      `SELECT id, CASE WHEN due_at IS NULL THEN ${us('created_at')} ELSE ${us('due_at')} END AS k
         FROM tasks WHERE ${column} = $1 AND deleted_at IS NULL`,
      [id],
    ))
      parts.push({ kind: 'task', id: r.id, k: r.k });
    for (const r of await t.dataSource.query(
      `SELECT id, ${us('created_at')} AS k FROM audit_log WHERE resource_type = $2 AND resource_id = $1 AND action = 'UPDATE'`,
      [id, auditType],
    ))
      parts.push({ kind: 'change', id: r.id, k: r.k });
    return parts.sort((a, b) => (a.k === b.k ? (a.id < b.id ? 1 : -1) : a.k < b.k ? 1 : -1));
  };

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerTeam(t);
  });
  afterAll(() => t.close());

  it('~60 mixed entries of a client page newest first with no duplicate and no gap, ties broken by id', async () => {
    const client = await created('/v1/clients', { firstName: 'Tim', lastName: 'Line' });
    const other = await created('/v1/clients', { firstName: 'Other', lastName: 'Client' });
    const base = Date.UTC(2025, 5, 1, 9);
    const minute = 60_000;
    const iso = (m: number) => new Date(base + m * minute).toISOString();
    const types = ['note', 'call', 'email', 'text', 'meeting', 'showing'];
    // 20 activities; four share one instant (a tie only the id can break), two share it with a task below.
    for (let i = 0; i < 20; i++)
      await created('/v1/activities', {
        type: types[i % 6],
        subject: `Activity ${i}`,
        clientId: client.id,
        occurredAt: i < 4 ? iso(100) : iso(i * 37),
      });
    // 10 appointments, three in the future.
    for (let i = 0; i < 10; i++)
      await created('/v1/appointments', {
        title: `Appointment ${i}`,
        startsAt: i < 3 ? new Date(Date.now() + (i + 1) * 86_400_000).toISOString() : iso(i * 53 + 5),
        clientId: client.id,
      });
    // 15 tasks: 10 due (two at the shared instant), 5 undated (placed at their creation).
    for (let i = 0; i < 15; i++)
      await created('/v1/tasks', {
        title: `Task ${i}`,
        clientId: client.id,
        ...(i < 10 ? { dueAt: i < 2 ? iso(100) : iso(i * 41 + 3) } : {}),
      });
    // 15 field changes of the client itself.
    for (let i = 0; i < 15; i++) await patched(`/v1/clients/${client.id}`, { notes: `Note v${i}` });
    // Noise that must not show: another client's entries, a trashed activity, the client's own CREATE entry.
    await created('/v1/activities', { type: 'note', clientId: other.id });
    await created('/v1/tasks', { title: 'Other task', clientId: other.id });
    await patched(`/v1/clients/${other.id}`, { notes: 'other' });
    const trashed = await created('/v1/activities', { type: 'note', clientId: client.id, subject: 'Trashed' });
    expect((await t.http.delete(`/v1/activities/${trashed.id}`, { token: admin.accessToken })).status).toBe(200);

    const expected = await expectedFor('client_id', client.id, 'client');
    expect(expected).toHaveLength(60);

    const { items, sizes } = await walk(`/v1/clients/${client.id}/timeline`, 7);
    expect(sizes).toEqual([7, 7, 7, 7, 7, 7, 7, 7, 4]);
    expect(items.map((i) => `${i.kind}:${entryId(i)}`)).toEqual(expected.map((e) => `${e.kind}:${e.id}`));
    expect(new Set(items.map(entryId)).size).toBe(60);
    // `at` is the entry's own time, in ISO form, never increasing.
    for (let i = 1; i < items.length; i++) expect(items[i]!.at <= items[i - 1]!.at).toBe(true);
    expect(items.every((i) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(i.at))).toBe(true);

    // One page size or another, the same sequence.
    const big = await walk(`/v1/clients/${client.id}/timeline`, 100);
    expect(big.items).toEqual(items);
    expect(big.sizes).toEqual([60]);

    // Entries carry their API shape (as GET returns them) and changes say who, old and new.
    const activity = items.find((i) => i.kind === 'activity')!;
    const got = await t.http.get(`/v1/activities/${activity.data.id}`, { token: admin.accessToken });
    expect(activity.data).toEqual(got.body.data);
    expect(activity.at).toBe(activity.data.occurredAt);
    const task = items.find((i) => i.kind === 'task' && i.data.dueAt)!;
    expect(task.at).toBe(task.data.dueAt);
    const undated = items.find((i) => i.kind === 'task' && !i.data.dueAt)!;
    expect(undated.at).toBe(undated.data.createdAt);
    const appointment = items.find((i) => i.kind === 'appointment')!;
    expect(appointment.at).toBe(appointment.data.startsAt);
    const changes = items.filter((i) => i.kind === 'change');
    expect(changes).toHaveLength(15);
    // Newest change first: v14 replaced v13.
    expect(changes[0]!.data).toMatchObject({
      userId: admin.userId,
      apiKeyId: null,
      old: { notes: 'Note v13' },
      new: { notes: 'Note v14' },
    });
    expect(changes[14]!.data).toMatchObject({ old: { notes: null }, new: { notes: 'Note v0' } });
  });

  it('a page cut stays exact while entries are added above it (keyset: no duplicate, no skip)', async () => {
    const client = await created('/v1/clients', { firstName: 'Live', lastName: 'Feed' });
    for (let i = 0; i < 12; i++)
      await created('/v1/activities', {
        type: 'note',
        clientId: client.id,
        occurredAt: new Date(Date.UTC(2024, 0, 1 + i)).toISOString(),
      });
    const path = `/v1/clients/${client.id}/timeline`;
    const first = await t.http.get(`${path}?limit=5`, { token: admin.accessToken });
    // New entries land on top meanwhile.
    for (let i = 0; i < 3; i++) await created('/v1/activities', { type: 'call', clientId: client.id });
    const rest: Item[] = [];
    let cursor: string | null = first.body.meta.nextCursor;
    while (cursor) {
      const res = await t.http.get(`${path}?limit=5&cursor=${encodeURIComponent(cursor)}`, {
        token: admin.accessToken,
      });
      rest.push(...res.body.data);
      cursor = res.body.meta.nextCursor;
    }
    const seen = [...first.body.data, ...rest].map(entryId);
    expect(new Set(seen).size).toBe(12);
    expect(seen).toHaveLength(12);
  });

  it('the record must be visible: another team, unknown, trashed is 404; bad ids, cursors and limits are 400', async () => {
    const mine = await created('/v1/clients', { firstName: 'Mine', lastName: 'C' });
    await created('/v1/activities', { type: 'note', clientId: mine.id });
    const stranger = await registerTeam(t);
    const theirs = await created('/v1/clients', { firstName: 'Their', lastName: 'C' }, stranger.accessToken);
    await created('/v1/activities', { type: 'note', clientId: theirs.id }, stranger.accessToken);
    const theirLead = await created('/v1/leads', { firstName: 'Their', lastName: 'L' }, stranger.accessToken);

    for (const path of [
      `/v1/clients/${theirs.id}/timeline`,
      `/v1/leads/${theirLead.id}/timeline`,
      `/v1/clients/00000000-0000-4000-8000-000000000000/timeline`,
      // A lead id on the clients route.
      `/v1/clients/${(await created('/v1/leads', { firstName: 'L', lastName: 'L' })).id}/timeline`,
    ]) {
      const res = await t.http.get(path, { token: admin.accessToken });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ success: false, error: expect.objectContaining({ code: 'NOT_FOUND' }) });
    }
    const trashed = await created('/v1/clients', { firstName: 'Trash', lastName: 'C' });
    await created('/v1/activities', { type: 'note', clientId: trashed.id });
    expect((await t.http.get(`/v1/clients/${trashed.id}/timeline`, { token: admin.accessToken })).status).toBe(200);
    expect((await t.http.delete(`/v1/clients/${trashed.id}`, { token: admin.accessToken })).status).toBe(200);
    expect((await t.http.get(`/v1/clients/${trashed.id}/timeline`, { token: admin.accessToken })).status).toBe(404);

    const other = await created('/v1/clients', { firstName: 'Other', lastName: 'C' });
    for (let i = 0; i < 3; i++) await created('/v1/activities', { type: 'note', clientId: other.id });
    const otherCursor = (await t.http.get(`/v1/clients/${other.id}/timeline?limit=1`, { token: admin.accessToken }))
      .body.meta.nextCursor;
    expect(typeof otherCursor).toBe('string');
    const listCursor = (await t.http.get('/v1/clients?limit=1', { token: admin.accessToken })).body.meta.nextCursor;
    for (const qs of [
      `cursor=${encodeURIComponent(otherCursor)}`,
      `cursor=${encodeURIComponent(listCursor)}`,
      'cursor=not-a-cursor',
      'limit=0',
      'limit=101',
      'limit=abc',
      'kind=task',
    ]) {
      const res = await t.http.get(`/v1/clients/${mine.id}/timeline?${qs}`, { token: admin.accessToken });
      if (res.status !== 400) throw new Error(`${qs}: ${res.status} ${res.text}`);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
    expect((await t.http.get('/v1/clients/not-a-uuid/timeline', { token: admin.accessToken })).status).toBe(400);
  });

  it('leads, listings and escrows have timelines of their own links (no appointments for listings and escrows)', async () => {
    const lead = await created('/v1/leads', { firstName: 'Lia', lastName: 'Lead' });
    const listing = await created('/v1/listings', { address: '7 Timeline Court' });
    const escrow = await created('/v1/escrows', { propertyAddress: '7 Timeline Court', listingId: listing.id });
    await created('/v1/activities', { type: 'showing', listingId: listing.id, leadId: lead.id });
    await created('/v1/activities', { type: 'email', escrowId: escrow.id });
    await created('/v1/tasks', { title: 'Order inspection', escrowId: escrow.id, dueAt: '2025-07-01T10:00:00Z' });
    await created('/v1/tasks', { title: 'Photos', listingId: listing.id });
    await created('/v1/appointments', { title: 'Viewing', startsAt: '2025-07-02T10:00:00Z', leadId: lead.id });
    await patched(`/v1/listings/${listing.id}`, { price: 450000 });
    await patched(`/v1/escrows/${escrow.id}`, { status: 'pending' });
    await patched(`/v1/leads/${lead.id}`, { leadStatus: 'contacted' });

    for (const [route, column, id, auditType] of [
      ['leads', 'lead_id', lead.id, 'lead'],
      ['listings', 'listing_id', listing.id, 'listing'],
      ['escrows', 'escrow_id', escrow.id, 'escrow'],
    ] as const) {
      const expected = await expectedFor(column, id, auditType);
      const { items } = await walk(`/v1/${route}/${id}/timeline`, 2);
      expect({ route, got: items.map((i) => `${i.kind}:${entryId(i)}`) }).toEqual({
        route,
        got: expected.map((e) => `${e.kind}:${e.id}`),
      });
    }
    const leadKinds = (await walk(`/v1/leads/${lead.id}/timeline`, 10)).items.map((i) => i.kind).sort();
    expect(leadKinds).toEqual(['activity', 'appointment', 'change']);
    const escrowItems = (await walk(`/v1/escrows/${escrow.id}/timeline`, 10)).items;
    expect(escrowItems.map((i) => i.kind).sort()).toEqual(['activity', 'change', 'task']);
    expect(escrowItems.find((i) => i.kind === 'change')!.data).toMatchObject({
      old: { status: 'open' },
      new: { status: 'pending' },
    });
  });

  it("an agent under 'assigned' sees their record's timeline without a colleague's appointment; others' records are 404", async () => {
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

    const mine = await created('/v1/clients', { firstName: 'Agent', lastName: 'Client', assignedTo: agentId }, token);
    const adminsClient = await created('/v1/clients', { firstName: 'Admin', lastName: 'Client' }, token);
    const activity = await created('/v1/activities', { type: 'call', clientId: mine.id }, token);
    const task = await created('/v1/tasks', { title: 'Admin task on agent client', clientId: mine.id }, token);
    const hidden = await created(
      '/v1/appointments',
      { title: 'Admin-only meeting', startsAt: '2025-08-01T10:00:00Z', clientId: mine.id },
      token,
    );
    const shown = await created(
      '/v1/appointments',
      { title: 'Agent meeting', startsAt: '2025-08-02T10:00:00Z', clientId: mine.id, assignedTo: agentId },
      token,
    );
    await patched(`/v1/clients/${mine.id}`, { notes: 'changed by admin' }, token);
    await t.dataSource.query(`UPDATE teams SET agent_visibility = 'assigned' WHERE id = $1`, [team.teamId]);

    const forAdmin = (await walk(`/v1/clients/${mine.id}/timeline`, 3, { token })).items.map(entryId).sort();
    const forAgent = (await walk(`/v1/clients/${mine.id}/timeline`, 3, { token: agent.accessToken })).items;
    expect(forAgent.map(entryId)).not.toContain(hidden.id);
    expect(forAgent.map((i) => i.kind).sort()).toEqual(['activity', 'appointment', 'change', 'task']);
    expect(forAgent.map(entryId).sort()).toEqual(forAdmin.filter((id) => id !== hidden.id).sort());
    expect(forAgent.map(entryId)).toEqual(expect.arrayContaining([activity.id, task.id, shown.id]));
    const denied = await t.http.get(`/v1/clients/${adminsClient.id}/timeline`, { token: agent.accessToken });
    expect(denied.status).toBe(404);
  });

  it('API keys: clients:read reads a client timeline; leads:read alone does not', async () => {
    const { backupCodes } = await enrolMfa(t, admin.accessToken);
    const client = await created('/v1/clients', { firstName: 'Key', lastName: 'Reader' });
    await created('/v1/activities', { type: 'note', clientId: client.id });
    const key = async (scopes: string[]) =>
      (
        await t.http.post(
          '/v1/api-keys',
          { name: scopes.join(' '), scopes, otp: backupCodes.shift()! },
          { token: admin.accessToken },
        )
      ).body.data.key as string;
    const reader = await key(['clients:read']);
    const { items } = await walk(`/v1/clients/${client.id}/timeline`, 10, { apiKey: reader });
    expect(items.map((i) => i.kind)).toEqual(['activity']);
    const other = await key(['leads:read']);
    const res = await t.http.get(`/v1/clients/${client.id}/timeline`, { apiKey: other });
    expect(res.status).toBe(403);
    expect(res.body.error).toEqual({ code: 'INSUFFICIENT_SCOPE', message: 'Requires clients:read' });
  });
});
