import { registerTeam } from './helpers/auth';
import { parseCsv } from './helpers/csv';
import { type TestApp, startTestApp } from './helpers/test-app';

/**
 * What is specific to one resource or not driven by the table: lead conversion (also under concurrency),
 * money and date formats, references blocking a delete, unique numbers, a large export, and the OpenAPI
 * description of every route.
 */
describe('CRM specifics: lead conversion, formats, references, large export, OpenAPI', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('OpenAPI documents every CRM, users and audit-log route: tag, summary, parameters, bodies, error responses', async () => {
    const doc = (await t.http.get('/docs-json')).body;
    const ops = Object.entries<Record<string, any>>(doc.paths)
      .filter(([p]) => /^\/v1\/(clients|leads|appointments|escrows|listings|users|audit-log)\b/.test(p))
      .flatMap(([p, methods]) =>
        Object.entries<any>(methods).map(([m, op]) => ({ key: `${m.toUpperCase()} ${p}`, op })),
      );
    // Per resource at least: list, export, get, create, update, delete, trash, restore (other features add routes).
    for (const r of ['clients', 'leads', 'appointments', 'escrows', 'listings'])
      for (const key of [
        'GET',
        'POST',
        'GET /export',
        'GET /{id}',
        'PATCH /{id}',
        'DELETE /{id}',
        'GET /trash',
        'POST /{id}/restore',
      ])
        expect(ops.map((o) => o.key)).toContain(key.includes(' ') ? key.replace(' ', ` /v1/${r}`) : `${key} /v1/${r}`);
    expect(ops.length).toBeGreaterThanOrEqual(5 * 8 + 1 + 5 + 1);
    for (const { key, op } of ops) {
      expect([key, op.tags?.length]).toEqual([key, 1]);
      expect([key, typeof op.summary]).toEqual([key, 'string']);
      expect([key, Object.keys(op.responses)]).toEqual([key, expect.arrayContaining(['401', '403'])]);
      // Creates and updates (action sub-routes such as convert, restore or unlock may take no body).
      if (/^POST \/v1\/[a-z-]+$|^PATCH /.test(key) || (key.startsWith('POST') && op.requestBody)) {
        // A JSON body names its DTO; other media types (CSV import) at least describe theirs.
        const content = op.requestBody?.content ?? {};
        const body = content['application/json'] ?? Object.values<any>(content)[0];
        expect([key, body?.schema?.$ref ?? body?.schema?.type]).toEqual([key, expect.any(String)]);
      }
      if (/\{id\}/.test(key))
        expect([key, Object.keys(op.responses)]).toEqual([key, expect.arrayContaining(['400', '404'])]);
    }
    const list = doc.paths['/v1/listings'].get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['limit', 'cursor', 'sort', 'q', 'status', 'city', 'minPrice', 'maxPrice']),
    );
    expect(Object.keys(doc.paths['/v1/clients/export'].get.responses['200'].content)).toEqual(['text/csv']);
    expect(doc.components.schemas.CreateClientDto.required).toEqual(['firstName', 'lastName']);
  });

  describe('specifics', () => {
    let token: string;
    let teamId: string;
    beforeAll(async () => {
      const team = await registerTeam(t);
      token = team.accessToken;
      teamId = team.teamId;
    });

    it('lead conversion: 201 the client (keeping its lead), lead converted, both audited; second time 409', async () => {
      const lead = (
        await t.http.post(
          '/v1/leads',
          { firstName: 'Conny', lastName: 'Vert', email: 'conny@example.com', leadType: 'seller', notes: 'hot' },
          { token },
        )
      ).body.data;
      const res = await t.http.post(`/v1/leads/${lead.id}/convert`, undefined, { token });
      expect(res.status).toBe(201);
      const client = res.body.data;
      expect(client).toMatchObject({
        firstName: 'Conny',
        lastName: 'Vert',
        email: 'conny@example.com',
        clientType: 'seller',
        notes: 'hot',
        status: 'active',
        leadId: lead.id,
      });
      const after = (await t.http.get(`/v1/leads/${lead.id}`, { token })).body.data;
      expect(after).toMatchObject({
        leadStatus: 'converted',
        convertedClientId: client.id,
        convertedAt: expect.any(String),
      });
      expect((await t.http.get(`/v1/clients/${client.id}`, { token })).body.data.leadId).toBe(lead.id);

      const again = await t.http.post(`/v1/leads/${lead.id}/convert`, undefined, { token });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('CONFLICT');
      const reopen = await t.http.patch(`/v1/leads/${lead.id}`, { leadStatus: 'new' }, { token });
      expect(reopen.status).toBe(409);
      expect((await t.http.patch(`/v1/leads/${lead.id}`, { notes: 'still editable' }, { token })).status).toBe(200);

      const audit = await t.dataSource.query(
        `SELECT action, resource_type, old_values, new_values FROM audit_log WHERE team_id = $1 AND resource_id = ANY($2) ORDER BY seq`,
        [teamId, [lead.id, client.id]],
      );
      expect(audit.map((a: any) => `${a.action} ${a.resource_type}`)).toEqual([
        'CREATE lead',
        'CREATE client',
        'UPDATE lead',
        'UPDATE lead',
      ]);
      expect(audit[2].old_values).toEqual({ leadStatus: 'new', convertedClientId: null, convertedAt: null });
      expect(audit[2].new_values).toEqual({
        leadStatus: 'converted',
        convertedClientId: client.id,
        convertedAt: after.convertedAt,
      });

      expect(
        (await t.http.post('/v1/leads/00000000-0000-4000-8000-000000000000/convert', undefined, { token })).status,
      ).toBe(404);
      expect((await t.http.post('/v1/leads/nope/convert', undefined, { token })).status).toBe(400);
    });

    it('two concurrent conversions of one lead: one client, one 409', async () => {
      const lead = (await t.http.post('/v1/leads', { firstName: 'Race', lastName: 'Condition' }, { token })).body.data;
      const results = await Promise.all(
        [1, 2, 3].map(() => t.http.post(`/v1/leads/${lead.id}/convert`, undefined, { token })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
      expect(await t.dataSource.query(`SELECT 1 FROM clients WHERE lead_id = $1`, [lead.id])).toHaveLength(1);
    });

    it('money in as a number comes back as an exact decimal string; dates as YYYY-MM-DD', async () => {
      const listing = (
        await t.http.post('/v1/listings', { address: '1 Money Way', price: 1234.5, bathrooms: 1.5 }, { token })
      ).body.data;
      expect(listing).toMatchObject({ price: '1234.50', bathrooms: 1.5 });
      const escrow = (
        await t.http.post(
          '/v1/escrows',
          { propertyAddress: 'x', purchasePrice: '0.10', openedAt: '2030-12-31' },
          { token },
        )
      ).body.data;
      expect(escrow).toMatchObject({ purchasePrice: '0.10', openedAt: '2030-12-31' });
    });

    it('a referenced record goes to the trash and keeps its links; unique numbers are 409 within a team', async () => {
      const client = (await t.http.post('/v1/clients', { firstName: 'Linked', lastName: 'Client' }, { token })).body
        .data;
      const appt = (
        await t.http.post(
          '/v1/appointments',
          { title: 'Meet', startsAt: '2030-05-01T10:00:00Z', clientId: client.id },
          { token },
        )
      ).body.data;
      // Delete is a move to the trash: the appointment keeps its link (the purge skips referenced rows).
      expect((await t.http.delete(`/v1/clients/${client.id}`, { token })).status).toBe(200);
      expect((await t.http.get(`/v1/appointments/${appt.id}`, { token })).body.data.clientId).toBe(client.id);
      // A trashed client cannot be newly linked.
      const relink = await t.http.post(
        '/v1/appointments',
        { title: 'Again', startsAt: '2030-05-02T10:00:00Z', clientId: client.id },
        { token },
      );
      expect(relink.status).toBe(404);

      expect((await t.http.post('/v1/listings', { address: 'a', mlsNumber: 'MLS-1' }, { token })).status).toBe(201);
      const dup = await t.http.post('/v1/listings', { address: 'b', mlsNumber: 'MLS-1' }, { token });
      expect(dup.status).toBe(409);
      expect(dup.body.error.message).toMatch(/mlsNumber/);
    });

    it('an export of more than 1,000 rows streams them all and also writes data_export_large (high)', async () => {
      await t.dataSource.query(
        `INSERT INTO listings (team_id, address, price, created_at)
         SELECT $1, g || ' Bulk Avenue', g * 1000, now() - make_interval(secs => g) FROM generate_series(1, 1001) AS g`,
        [teamId],
      );
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM listings WHERE team_id = $1`, [teamId]);
      expect(n).toBeGreaterThan(1000);
      const res = await t.http.get('/v1/listings/export?sort=price', { token });
      expect(res.status).toBe(200);
      const [, ...records] = parseCsv(res.text);
      expect(records).toHaveLength(n);
      expect(new Set(records.map((r) => r[0])).size).toBe(n);
      const events = await t.dataSource.query(
        `SELECT event_type, severity FROM security_events WHERE team_id = $1 AND event_type LIKE 'data_export%' ORDER BY event_type`,
        [teamId],
      );
      expect(events).toEqual([
        { event_type: 'data_export', severity: 'medium' },
        { event_type: 'data_export_large', severity: 'high' },
      ]);
    });
  });
});
