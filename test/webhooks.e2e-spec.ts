import { Webhook } from 'standardwebhooks';
import { TokenService } from '../src/modules/auth/token.service';
import { AuditService } from '../src/modules/audit/audit.service';
import { TeamScope } from '../src/database/team-scope';
import { type SignedIn, STRONG_PASSWORD, registerTeam, uniqueEmail } from './helpers/auth';
import { codeAt, enrolMfa } from './helpers/mfa';
import { readOutbox } from './helpers/outbox';
import { type TestApp, startTestApp } from './helpers/test-app';
import { LOCAL_RECEIVER_PORTS, type ReceivedWebhook, WebhookReceiver, eventually } from './helpers/webhook-receiver';

/**
 * Outgoing webhooks against a real local receiver: Standard Webhooks signatures checked with the published
 * `standardwebhooks` library, the outbox written by the change's own statement (nothing for a rollback, N
 * events for a statement changing N rows), retries with backoff and the same webhook-id, redelivery, the test
 * event, 24-hour deactivation, and who may manage hooks (admin bearer with 2FA and a fresh password entry).
 */
describe('webhooks', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let admin: SignedIn;
  let mfaSecret: string;

  const headersOf = (hit: ReceivedWebhook): Record<string, string> => ({
    'webhook-id': String(hit.headers['webhook-id']),
    'webhook-timestamp': String(hit.headers['webhook-timestamp']),
    'webhook-signature': String(hit.headers['webhook-signature']),
  });

  const createHook = async (events: string[], path = '/hook', token = admin.accessToken) => {
    const res = await t.http.post('/v1/webhooks', { url: `${receiver.url}${path}`, events }, { token });
    if (res.status !== 201) throw new Error(`create hook: ${res.status} ${res.text}`);
    return res.body.data as { id: string; secret: string; url: string; events: string[]; active: boolean };
  };
  const forPath = (path: string) => (hit: ReceivedWebhook) => hit.path === path;

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    t = await startTestApp({
      env: {
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_ALLOWED_PORTS: LOCAL_RECEIVER_PORTS,
        WEBHOOK_RETRY_BASE_SECONDS: '0.2',
        WEBHOOK_MAX_ATTEMPTS: '4',
        WEBHOOK_TIMEOUT_MS: '2000',
      },
    });
    admin = await registerTeam(t);
    mfaSecret = (await enrolMfa(t, admin.accessToken)).secret;
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('POST returns the whsec_ secret once, stores it sealed, audits and records webhook_created', async () => {
    const hook = await createHook(['client.*'], '/secret');
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const bytes = Buffer.from(hook.secret.slice('whsec_'.length), 'base64');
    expect(bytes.length).toBeGreaterThanOrEqual(24);
    expect(bytes.length).toBeLessThanOrEqual(32);
    expect(hook).toMatchObject({ url: `${receiver.url}/secret`, events: ['client.*'], active: true });

    const got = await t.http.get(`/v1/webhooks/${hook.id}`, { token: admin.accessToken });
    expect(got.status).toBe(200);
    expect(got.body.data.secret).toBeUndefined();
    expect(got.text).not.toContain(hook.secret.slice(6));
    const list = await t.http.get('/v1/webhooks', { token: admin.accessToken });
    expect(list.text).not.toContain(hook.secret.slice(6));

    const [row] = await t.dataSource.query(`SELECT secret_sealed FROM webhooks WHERE id = $1`, [hook.id]);
    expect(row.secret_sealed).toMatch(/^v2:[0-9a-f]{8}:/);
    expect(row.secret_sealed).not.toContain(hook.secret.slice(6));
    // Bound to its hook: the sealed value copied onto another hook does not open there.
    const other = await createHook(['lead.*'], '/secret-other');
    await t.dataSource.query(`UPDATE webhooks SET secret_sealed = $1 WHERE id = $2`, [row.secret_sealed, other.id]);
    const { WebhooksService } = await import('../src/modules/webhooks/webhooks.service');
    const service = t.app.get(WebhooksService);
    expect(service.openSecret(row.secret_sealed, admin.teamId, hook.id)).toBe(hook.secret);
    expect(() => service.openSecret(row.secret_sealed, admin.teamId, other.id)).toThrow();

    const audit = await t.dataSource.query(
      `SELECT action, new_values FROM audit_log WHERE resource_type = 'webhook' AND resource_id = $1`,
      [hook.id],
    );
    expect(audit).toHaveLength(1);
    expect(audit[0].action).toBe('CREATE');
    expect(JSON.stringify(audit[0].new_values)).not.toContain(hook.secret.slice(6));
    expect(audit[0].new_values).not.toHaveProperty('secret_sealed');
    const events = await t.dataSource.query(
      `SELECT severity, details FROM security_events WHERE event_type = 'webhook_created' AND details->>'webhookId' = $1`,
      [hook.id],
    );
    expect(events).toHaveLength(1);
    await t.http.delete(`/v1/webhooks/${hook.id}`, { token: admin.accessToken });
    await t.http.delete(`/v1/webhooks/${other.id}`, { token: admin.accessToken });
  });

  it('validates events: exact names, <type>.*, *; anything else is 400', async () => {
    for (const events of [
      ['client.exploded'],
      ['clients.created'],
      ['client.'],
      ['user.created'],
      [],
      ['**'],
      'client.*',
    ]) {
      const res = await t.http.post('/v1/webhooks', { url: `${receiver.url}/x`, events }, { token: admin.accessToken });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
    const ok = await createHook(['*', 'lead.converted', 'task.restored', 'activity.*'], '/valid');
    expect(ok.events).toEqual(['*', 'lead.converted', 'task.restored', 'activity.*']);
    const bad = await t.http.patch(
      `/v1/webhooks/${ok.id}`,
      { events: ['escrow.melted'] },
      { token: admin.accessToken },
    );
    expect(bad.status).toBe(400);
    const unknownField = await t.http.post(
      '/v1/webhooks',
      { url: `${receiver.url}/x`, events: ['*'], secret: 'whsec_mine' },
      { token: admin.accessToken },
    );
    expect(unknownField.status).toBe(400);
    await t.http.delete(`/v1/webhooks/${ok.id}`, { token: admin.accessToken });
  });

  it('delivers created, updated (with previous) and deleted events, signed per Standard Webhooks', async () => {
    const hook = await createHook(['client.*'], '/crud');
    const created = await t.http.post(
      '/v1/clients',
      { firstName: 'Wanda', lastName: 'Hook', email: 'wanda@example.com' },
      { token: admin.accessToken },
    );
    expect(created.status).toBe(201);
    const client = created.body.data;
    const committedAt = Date.now();
    const [createdHit] = await receiver.waitFor((h) => h.path === '/crud' && h.json?.type === 'client.created');
    // The contract: a healthy receiver gets the event within 5 s of the commit.
    expect(createdHit!.at - committedAt).toBeLessThan(5_000);

    const wh = new Webhook(hook.secret);
    const verified = wh.verify(createdHit!.body, headersOf(createdHit!)) as any;
    expect(verified.type).toBe('client.created');
    expect(verified.data).toEqual(client);
    expect(new Date(verified.timestamp).toISOString()).toBe(verified.timestamp);
    expect(createdHit!.headers['content-type']).toBe('application/json');
    // A tampered body or another secret fails verification.
    expect(() => wh.verify(createdHit!.body.replace('Wanda', 'Wendy'), headersOf(createdHit!))).toThrow();
    const stranger = new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`);
    expect(() => stranger.verify(createdHit!.body, headersOf(createdHit!))).toThrow();

    const patched = await t.http.patch(
      `/v1/clients/${client.id}`,
      { firstName: 'Wilma', notes: 'moved' },
      { token: admin.accessToken },
    );
    expect(patched.status).toBe(200);
    const [updatedHit] = await receiver.waitFor((h) => h.path === '/crud' && h.json?.type === 'client.updated');
    const updated = wh.verify(updatedHit!.body, headersOf(updatedHit!)) as any;
    expect(updated.data).toMatchObject({ ...patched.body.data, previous: { firstName: 'Wanda', notes: null } });
    expect(Object.keys(updated.data.previous).sort()).toEqual(['firstName', 'notes']);

    const removed = await t.http.delete(`/v1/clients/${client.id}`, { token: admin.accessToken });
    expect(removed.status).toBe(200);
    const [deletedHit] = await receiver.waitFor((h) => h.path === '/crud' && h.json?.type === 'client.deleted');
    const deleted = wh.verify(deletedHit!.body, headersOf(deletedHit!)) as any;
    expect(deleted.data.id).toBe(client.id);
    expect(deleted.data.firstName).toBe('Wilma');

    // Three events, three distinct ids; each event once.
    const ids = receiver.received.filter(forPath('/crud')).map((h) => h.headers['webhook-id']);
    expect(new Set(ids).size).toBe(3);
    const deliveries = await t.http.get(`/v1/webhooks/${hook.id}/deliveries`, { token: admin.accessToken });
    expect(deliveries.status).toBe(200);
    expect(deliveries.body.data.map((d: any) => d.eventType)).toEqual([
      'client.deleted',
      'client.updated',
      'client.created',
    ]);
    for (const d of deliveries.body.data) {
      expect(Object.keys(d).sort()).toEqual(
        [
          'attempts',
          'createdAt',
          'eventId',
          'eventType',
          'id',
          'lastAttemptAt',
          'lastError',
          'lastStatusCode',
          'nextAttemptAt',
          'status',
        ].sort(),
      );
      expect(d).toMatchObject({
        status: 'succeeded',
        attempts: 1,
        lastStatusCode: 200,
        lastError: null,
        nextAttemptAt: null,
      });
    }
    expect(deliveries.body.data.map((d: any) => d.eventId).sort()).toEqual([...ids].sort());
    // Keyset pages: newest first, one at a time.
    const first = await t.http.get(`/v1/webhooks/${hook.id}/deliveries?limit=2`, { token: admin.accessToken });
    expect(first.body.data).toHaveLength(2);
    const second = await t.http.get(
      `/v1/webhooks/${hook.id}/deliveries?limit=2&cursor=${encodeURIComponent(first.body.meta.nextCursor)}`,
      { token: admin.accessToken },
    );
    expect(second.body.data.map((d: any) => d.id)).toEqual([deliveries.body.data[2].id]);
    expect(second.body.meta.nextCursor).toBeNull();
    await t.http.delete(`/v1/webhooks/${hook.id}`, { token: admin.accessToken });
  });

  it('a restore from the trash is a <type>.restored event; a purge emits nothing', async () => {
    const hook = await createHook(['listing.deleted', 'listing.restored'], '/restore');
    const listing = await t.http.post('/v1/listings', { address: '9 Trash Lane' }, { token: admin.accessToken });
    expect(listing.status).toBe(201);
    const id = listing.body.data.id;
    expect((await t.http.delete(`/v1/listings/${id}`, { token: admin.accessToken })).status).toBe(200);
    const restored = await t.http.post(`/v1/listings/${id}/restore`, undefined, { token: admin.accessToken });
    expect(restored.status).toBe(200);
    const hits = await receiver.waitFor(forPath('/restore'), 2);
    const bodies = hits.map((h) => new Webhook(hook.secret).verify(h.body, headersOf(h)) as any);
    expect(bodies.map((b) => b.type).sort()).toEqual(['listing.deleted', 'listing.restored']);
    expect(bodies.find((b) => b.type === 'listing.restored').data).toEqual(restored.body.data);
    const events = await t.dataSource.query(
      `SELECT type FROM webhook_events WHERE team_id = $1 AND data->>'id' = $2 ORDER BY created_at`,
      [admin.teamId, id],
    );
    expect(events.map((e: any) => e.type)).toEqual(['listing.deleted', 'listing.restored']);

    // Deleted again and purged for good: the PURGE writes its audit row, and no event (even for `*`).
    const all = await createHook(['*'], '/purge');
    expect((await t.http.delete(`/v1/listings/${id}`, { token: admin.accessToken })).status).toBe(200);
    await receiver.waitFor((h) => h.path === '/purge' && h.json?.type === 'listing.deleted');
    const { CrmTrashPurge } = await import('../src/modules/crm/common/crm-trash-purge.service');
    await t.app.get(CrmTrashPurge).purge(new Date(Date.now() + 400 * 86_400_000));
    const purged = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_log WHERE action = 'PURGE' AND resource_id = $1`,
      [id],
    );
    expect(purged[0].n).toBe(1);
    const after = await t.dataSource.query(
      `SELECT type FROM webhook_events WHERE team_id = $1 AND data->>'id' = $2 ORDER BY created_at`,
      [admin.teamId, id],
    );
    // One event per change, however many hooks want it (here two: one delivery each).
    expect(after.map((e: any) => e.type)).toEqual(['listing.deleted', 'listing.restored', 'listing.deleted']);
    const fanOut = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        WHERE e.data->>'id' = $1 AND e.type = 'listing.deleted'`,
      [id],
    );
    expect(fanOut[0].n).toBe(3);
    await t.http.delete(`/v1/webhooks/${all.id}`, { token: admin.accessToken });
    await t.http.delete(`/v1/webhooks/${hook.id}`, { token: admin.accessToken });
  });

  it('writes events only for subscribed types, in the statement of the change', async () => {
    const hook = await createHook(['lead.created'], '/leads-only');
    const client = await t.http.post(
      '/v1/clients',
      { firstName: 'No', lastName: 'Event' },
      { token: admin.accessToken },
    );
    const lead = await t.http.post('/v1/leads', { firstName: 'Yes', lastName: 'Event' }, { token: admin.accessToken });
    // Written with the change itself: visible as soon as the request has been answered.
    const rows = await t.dataSource.query(
      `SELECT type, data->>'id' AS id FROM webhook_events WHERE team_id = $1 AND data->>'id' = ANY($2::text[])`,
      [admin.teamId, [client.body.data.id, lead.body.data.id]],
    );
    expect(rows).toEqual([{ type: 'lead.created', id: lead.body.data.id }]);
    await receiver.waitFor((h) => h.path === '/leads-only' && h.json?.data?.id === lead.body.data.id);
    await t.http.delete(`/v1/webhooks/${hook.id}`, { token: admin.accessToken });
  });

  it('a rolled-back change writes nothing; a statement changing N rows writes N events', async () => {
    const hook = await createHook(['client.*', 'escrow.*'], '/tx');
    const audit = t.app.get(AuditService);
    const scope = t.app.get(TeamScope);
    const actor = { ip: '127.0.0.1', userAgent: 'test' };
    // The insert, its audit row and its event run, then the transaction fails.
    await expect(
      scope.run(admin.teamId, async (m) => {
        const st = audit.withAudit(
          actor,
          admin.teamId,
          `INSERT INTO clients (team_id, first_name, last_name) VALUES ($1, 'Rolled', 'Back') RETURNING id, first_name AS "firstName"`,
          [admin.teamId],
          { action: 'CREATE', resourceType: 'client', oldValues: null, newValues: 'changed' },
        );
        const [row] = await m.query(st.sql, [...st.params]);
        const inside = await m.query(`SELECT count(*)::int AS n FROM webhook_events WHERE data->>'id' = $1`, [row.id]);
        expect(inside[0].n).toBe(1);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const after = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM webhook_events WHERE data->>'firstName' = 'Rolled'`,
    );
    expect(after[0].n).toBe(0);

    // A failing create over HTTP (duplicate escrow number: the statement fails) sends nothing either.
    const number = `E-${Date.now()}`;
    const ok = await t.http.post(
      '/v1/escrows',
      { propertyAddress: '1 Main St', escrowNumber: number },
      { token: admin.accessToken },
    );
    expect(ok.status).toBe(201);
    const dup = await t.http.post(
      '/v1/escrows',
      { propertyAddress: '2 Main St', escrowNumber: number },
      { token: admin.accessToken },
    );
    expect(dup.status).toBe(409);
    const escrowEvents = await t.dataSource.query(
      `SELECT data->>'propertyAddress' AS address FROM webhook_events WHERE type = 'escrow.created' AND data->>'escrowNumber' = $1`,
      [number],
    );
    expect(escrowEvents).toEqual([{ address: '1 Main St' }]);

    // Set-based: one UPDATE over five rows, five events (each with its own previous values).
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await t.http.post(
        '/v1/clients',
        { firstName: `Bulk${i}`, lastName: 'Set' },
        { token: admin.accessToken },
      );
      ids.push(c.body.data.id);
    }
    await receiver.waitFor(
      (h) => h.path === '/tx' && h.json?.type === 'client.created' && ids.includes(h.json.data.id),
      5,
    );
    const st = audit.withAudit(
      actor,
      admin.teamId,
      `UPDATE clients SET notes = 'bulk' WHERE team_id = $1 AND id = ANY($2::uuid[]) RETURNING id, notes`,
      [admin.teamId, `{${ids.join(',')}}`],
      { action: 'UPDATE', resourceType: 'client', oldValues: { notes: null }, newValues: { fields: ['notes'] } },
    );
    const changed = await scope.rows(admin.teamId, st);
    expect(changed).toHaveLength(5);
    const hits = await receiver.waitFor(
      (h) => h.path === '/tx' && h.json?.type === 'client.updated' && ids.includes(h.json.data.id),
      5,
    );
    expect(new Set(hits.map((h) => h.json.data.id)).size).toBe(5);
    for (const h of hits) expect(h.json.data).toMatchObject({ notes: 'bulk', previous: { notes: null } });
    await t.http.delete(`/v1/webhooks/${hook.id}`, { token: admin.accessToken });
  });

  it('lead.converted is sent with the conversion', async () => {
    const hook = await createHook(['lead.converted'], '/converted');
    const lead = await t.http.post('/v1/leads', { firstName: 'Con', lastName: 'Vert' }, { token: admin.accessToken });
    const res = await t.http.post(`/v1/leads/${lead.body.data.id}/convert`, undefined, { token: admin.accessToken });
    expect(res.status).toBe(201);
    const [hit] = await receiver.waitFor(forPath('/converted'));
    const body = new Webhook(hook.secret).verify(hit!.body, headersOf(hit!)) as any;
    expect(body.type).toBe('lead.converted');
    expect(body.data).toMatchObject({
      id: lead.body.data.id,
      leadStatus: 'converted',
      convertedClientId: res.body.data.id,
    });
    expect(body.data.client).toMatchObject({ id: res.body.data.id, leadId: lead.body.data.id });
    // A second conversion is refused (409) and sends nothing more.
    const again = await t.http.post(`/v1/leads/${lead.body.data.id}/convert`, undefined, { token: admin.accessToken });
    expect(again.status).toBe(409);
    const stored = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM webhook_events WHERE type = 'lead.converted' AND data->>'id' = $1`,
      [lead.body.data.id],
    );
    expect(stored[0].n).toBe(1);
    await t.http.delete(`/v1/webhooks/${hook.id}`, { token: admin.accessToken });
  });

  it('retries a failing receiver with backoff and the same webhook-id, then succeeds; redeliver and test', async () => {
    const hook = await createHook(['client.created'], '/flaky');
    let failures = 2;
    receiver.respond = (hit) => (hit.path === '/flaky' && failures-- > 0 ? 500 : 200);
    try {
      const c = await t.http.post('/v1/clients', { firstName: 'Re', lastName: 'Try' }, { token: admin.accessToken });
      const hits = await receiver.waitFor(forPath('/flaky'), 3);
      expect(new Set(hits.map((h) => h.headers['webhook-id'])).size).toBe(1);
      // Backoff: 0.2 s, then 0.4 s (the poll may add to it, never take from it).
      expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(180);
      expect(hits[2]!.at - hits[1]!.at).toBeGreaterThanOrEqual(380);
      for (const h of hits) new Webhook(hook.secret).verify(h.body, headersOf(h));
      expect(hits[2]!.json.data.id).toBe(c.body.data.id);
      const [delivery] = await eventually(
        async () => (await t.http.get(`/v1/webhooks/${hook.id}/deliveries`, { token: admin.accessToken })).body.data,
        (d: any[]) => d[0]?.status === 'succeeded',
      );
      expect(delivery).toMatchObject({ attempts: 3, lastStatusCode: 200, lastError: null });
      const failed = await t.dataSource.query(`SELECT failing_since FROM webhooks WHERE id = $1`, [hook.id]);
      expect(failed[0].failing_since).toBeNull();

      // Redeliver: a new delivery of the same event, same webhook-id.
      const re = await t.http.post(`/v1/webhooks/${hook.id}/deliveries/${delivery.id}/redeliver`, undefined, {
        token: admin.accessToken,
      });
      expect(re.status).toBe(202);
      expect(re.body.data).toMatchObject({ eventId: delivery.eventId, status: 'pending', attempts: 0 });
      const again = await receiver.waitFor(forPath('/flaky'), 4);
      expect(again[3]!.headers['webhook-id']).toBe(hits[0]!.headers['webhook-id']);
      new Webhook(hook.secret).verify(again[3]!.body, headersOf(again[3]!));
      const unknown = await t.http.post(
        `/v1/webhooks/${hook.id}/deliveries/00000000-0000-4000-8000-000000000000/redeliver`,
        undefined,
        { token: admin.accessToken },
      );
      expect(unknown.status).toBe(404);

      // Test event: to this hook alone, whatever it subscribes to.
      const test = await t.http.post(`/v1/webhooks/${hook.id}/test`, undefined, { token: admin.accessToken });
      expect(test.status).toBe(202);
      expect(test.body.data.eventType).toBe('webhook.test');
      const [testHit] = await receiver.waitFor((h) => h.path === '/flaky' && h.json?.type === 'webhook.test');
      const body = new Webhook(hook.secret).verify(testHit!.body, headersOf(testHit!)) as any;
      expect(body.data.webhookId).toBe(hook.id);
    } finally {
      receiver.respond = () => 200;
    }
    await t.http.delete(`/v1/webhooks/${hook.id}`, { token: admin.accessToken });
  });

  it('gives up after WEBHOOK_MAX_ATTEMPTS (failed; lastError holds the status line, never the answer)', async () => {
    const hook = await createHook(['client.created'], '/down');
    receiver.respond = (hit) => (hit.path === '/down' ? 503 : 200);
    try {
      await t.http.post('/v1/clients', { firstName: 'Never', lastName: 'There' }, { token: admin.accessToken });
      const [delivery] = await eventually(
        async () => (await t.http.get(`/v1/webhooks/${hook.id}/deliveries`, { token: admin.accessToken })).body.data,
        (d: any[]) => d[0]?.status === 'failed',
      );
      expect(delivery).toMatchObject({ attempts: 4, lastStatusCode: 503, nextAttemptAt: null });
      // The receiver's body ("receiver says 503") is neither read nor kept.
      expect(delivery.lastError).toBe('HTTP 503 Service Unavailable');
      expect(receiver.received.filter(forPath('/down'))).toHaveLength(4);
    } finally {
      receiver.respond = () => 200;
    }
    await t.http.delete(`/v1/webhooks/${hook.id}`, { token: admin.accessToken });
  });

  it('a hook failing every delivery for 24 h is deactivated: event, audit row, mail to the admins', async () => {
    const hook = await createHook(['client.created'], '/dead');
    receiver.respond = (hit) => (hit.path === '/dead' ? 500 : 200);
    try {
      // The first failure starts the run; pretend it began a day ago.
      await t.http.post('/v1/clients', { firstName: 'Dead', lastName: 'One' }, { token: admin.accessToken });
      await eventually(
        async () => (await t.dataSource.query(`SELECT failing_since FROM webhooks WHERE id = $1`, [hook.id]))[0],
        (r: any) => r.failing_since !== null,
      );
      await t.dataSource.query(`UPDATE webhooks SET failing_since = now() - interval '25 hours' WHERE id = $1`, [
        hook.id,
      ]);
      const got = await eventually(
        async () => (await t.http.get(`/v1/webhooks/${hook.id}`, { token: admin.accessToken })).body.data,
        (h: any) => h.active === false,
      );
      expect(got.deactivatedAt).toEqual(expect.any(String));
      const events = await eventually(
        () =>
          t.dataSource.query(
            `SELECT severity FROM security_events WHERE event_type = 'webhook_deactivated' AND details->>'webhookId' = $1`,
            [hook.id],
          ),
        (rows: any[]) => rows.length > 0,
      );
      expect(events).toEqual([{ severity: 'high' }]);
      const audit = await t.dataSource.query(
        `SELECT action, new_values FROM audit_log WHERE resource_type = 'webhook' AND resource_id = $1 AND action = 'UPDATE'`,
        [hook.id],
      );
      expect(audit).toEqual([{ action: 'UPDATE', new_values: { active: false } }]);
      const mail = await eventually(
        () => Promise.resolve(readOutbox(t).filter((m) => m.subject === 'A webhook was deactivated')),
        (m) => m.length > 0,
      );
      expect(mail[0]!.to).toContain(admin.email);
      expect(mail[0]!.text).toContain(`${receiver.url}/dead`);

      // Inactive: nothing is claimed for it. Reactivating resets the failure run.
      const back = await t.http.patch(`/v1/webhooks/${hook.id}`, { active: true }, { token: admin.accessToken });
      expect(back.body.data).toMatchObject({ active: true, failingSince: null, deactivatedAt: null });
    } finally {
      receiver.respond = () => 200;
    }
    await t.http.delete(`/v1/webhooks/${hook.id}`, { token: admin.accessToken });
  });

  it('PATCH changes url, events and active, audited with the old values; DELETE removes it', async () => {
    const hook = await createHook(['client.created'], '/before');
    const res = await t.http.patch(
      `/v1/webhooks/${hook.id}`,
      { url: `${receiver.url}/after`, events: ['lead.*'], active: false },
      { token: admin.accessToken },
    );
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ url: `${receiver.url}/after`, events: ['lead.*'], active: false });
    const [row] = await t.dataSource.query(
      `SELECT old_values, new_values FROM audit_log WHERE resource_type = 'webhook' AND resource_id = $1 AND action = 'UPDATE'`,
      [hook.id],
    );
    expect(row.old_values).toEqual({ url: `${receiver.url}/before`, events: ['client.created'], active: true });
    expect(row.new_values).toEqual({ url: `${receiver.url}/after`, events: ['lead.*'], active: false });
    expect((await t.http.patch(`/v1/webhooks/${hook.id}`, {}, { token: admin.accessToken })).status).toBe(400);
    const del = await t.http.delete(`/v1/webhooks/${hook.id}`, { token: admin.accessToken });
    expect(del.status).toBe(200);
    expect((await t.http.get(`/v1/webhooks/${hook.id}`, { token: admin.accessToken })).status).toBe(404);
    const audits = await t.dataSource.query(
      `SELECT action FROM audit_log WHERE resource_type = 'webhook' AND resource_id = $1 ORDER BY created_at`,
      [hook.id],
    );
    expect(audits.map((a: any) => a.action)).toEqual(['CREATE', 'UPDATE', 'DELETE']);
  });

  it('the retention purge removes finished events past 30 days, never one still pending', async () => {
    const hook = await createHook(['client.created'], '/old');
    await t.http.post('/v1/clients', { firstName: 'Old', lastName: 'Done' }, { token: admin.accessToken });
    await receiver.waitFor(forPath('/old'));
    const [done] = await eventually(
      () =>
        t.dataSource.query(`SELECT event_id FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'succeeded'`, [
          hook.id,
        ]),
      (r: any[]) => r.length === 1,
    );
    // Deactivated: the second event stays pending, however old.
    await t.http.patch(`/v1/webhooks/${hook.id}`, { active: false }, { token: admin.accessToken });
    const [pendingEvent] = await t.dataSource.query(
      `WITH e AS (INSERT INTO webhook_events (team_id, type, data) VALUES ($1, 'client.created', '{}') RETURNING id)
       INSERT INTO webhook_deliveries (team_id, webhook_id, event_id) SELECT $1, $2, id FROM e RETURNING event_id`,
      [admin.teamId, hook.id],
    );
    await t.dataSource.query(
      `UPDATE webhook_events SET created_at = now() - interval '31 days' WHERE id = ANY($1::uuid[])`,
      [[done.event_id, pendingEvent.event_id]],
    );
    const { WebhookRetention } = await import('../src/modules/webhooks/webhook-retention');
    expect(await t.app.get(WebhookRetention).purge()).toBeGreaterThanOrEqual(1);
    const left = await t.dataSource.query(`SELECT id FROM webhook_events WHERE id = ANY($1::uuid[])`, [
      [done.event_id, pendingEvent.event_id],
    ]);
    expect(left).toEqual([{ id: pendingEvent.event_id }]);
    await t.http.delete(`/v1/webhooks/${hook.id}`, { token: admin.accessToken });
  });

  describe('who may manage hooks', () => {
    it('API keys get 403, even with every scope', async () => {
      const key = await t.http.post(
        '/v1/api-keys',
        { name: 'all', scopes: ['*:*'], otp: codeAt(mfaSecret, 1) },
        { token: admin.accessToken },
      );
      expect(key.status).toBe(201);
      for (const res of [
        await t.http.get('/v1/webhooks', { apiKey: key.body.data.key }),
        await t.http.post('/v1/webhooks', { url: `${receiver.url}/k`, events: ['*'] }, { apiKey: key.body.data.key }),
      ]) {
        expect(res.status).toBe(403);
      }
    });

    it('agents get 403; admins without 2FA get MFA_ENROLLMENT_REQUIRED; other teams get 404', async () => {
      const hook = await createHook(['*'], '/mine');
      const email = uniqueEmail('agent');
      await t.http.post(
        '/v1/users',
        { email, password: STRONG_PASSWORD, firstName: 'A', lastName: 'Gent', role: 'agent' },
        { token: admin.accessToken },
      );
      const agent = await t.http.post('/v1/auth/login', { email, password: STRONG_PASSWORD });
      const agentToken = agent.body.data.accessToken;
      expect((await t.http.get('/v1/webhooks', { token: agentToken })).status).toBe(403);
      expect(
        (await t.http.post('/v1/webhooks', { url: `${receiver.url}/a`, events: ['*'] }, { token: agentToken })).status,
      ).toBe(403);

      const plain = await registerTeam(t);
      const noMfa = await t.http.get('/v1/webhooks', { token: plain.accessToken });
      expect(noMfa.status).toBe(403);
      expect(noMfa.body.error.code).toBe('MFA_ENROLLMENT_REQUIRED');

      const other = await registerTeam(t);
      await enrolMfa(t, other.accessToken);
      expect((await t.http.get(`/v1/webhooks/${hook.id}`, { token: other.accessToken })).status).toBe(404);
      expect(
        (await t.http.patch(`/v1/webhooks/${hook.id}`, { active: false }, { token: other.accessToken })).status,
      ).toBe(404);
      expect((await t.http.delete(`/v1/webhooks/${hook.id}`, { token: other.accessToken })).status).toBe(404);
      expect((await t.http.post(`/v1/webhooks/${hook.id}/test`, undefined, { token: other.accessToken })).status).toBe(
        404,
      );
      expect((await t.http.get(`/v1/webhooks/${hook.id}/deliveries`, { token: other.accessToken })).status).toBe(404);
      expect((await t.http.get('/v1/webhooks', { token: other.accessToken })).body.data).toEqual([]);
      // Team B's clients do not reach team A's hook.
      const theirs = await t.http.post(
        '/v1/clients',
        { firstName: 'Other', lastName: 'Team' },
        { token: other.accessToken },
      );
      const leaked = await t.dataSource.query(`SELECT count(*)::int AS n FROM webhook_events WHERE data->>'id' = $1`, [
        theirs.body.data.id,
      ]);
      expect(leaked[0].n).toBe(0);
      await t.http.delete(`/v1/webhooks/${hook.id}`, { token: admin.accessToken });
    });

    it('POST and PATCH with a stale auth_time are 401 REAUTH_REQUIRED and change nothing', async () => {
      const hook = await createHook(['*'], '/stale');
      const claims = JSON.parse(Buffer.from(admin.accessToken.split('.')[1]!, 'base64url').toString('utf8'));
      const stale = t.app.get(TokenService).signAccess({
        sub: claims.sub,
        team: claims.team,
        role: claims.role,
        sid: claims.sid,
        auth_time: Math.floor(Date.now() / 1000) - 6 * 60,
      }).accessToken;
      const post = await t.http.post(
        '/v1/webhooks',
        { url: `${receiver.url}/stale2`, events: ['*'] },
        { token: stale },
      );
      expect(post.status).toBe(401);
      expect(post.body.error.code).toBe('REAUTH_REQUIRED');
      const patch = await t.http.patch(`/v1/webhooks/${hook.id}`, { active: false }, { token: stale });
      expect(patch.status).toBe(401);
      expect(patch.body.error.code).toBe('REAUTH_REQUIRED');
      expect((await t.http.get(`/v1/webhooks/${hook.id}`, { token: stale })).body.data.active).toBe(true);
      const count = await t.dataSource.query(`SELECT count(*)::int AS n FROM webhooks WHERE url = $1`, [
        `${receiver.url}/stale2`,
      ]);
      expect(count[0].n).toBe(0);
      await t.http.delete(`/v1/webhooks/${hook.id}`, { token: admin.accessToken });
    });
  });
});
