import { cpus, loadavg } from 'node:os';
import { type SignedIn, STRONG_PASSWORD, loginOk, registerTeam } from './helpers/auth';
import { enrolMfa } from './helpers/mfa';
import { parseCsv } from './helpers/csv';
import { verifyChains } from './helpers/crm';
import { type TestApp, startTestApp } from './helpers/test-app';

/**
 * POST /v1/<resource>/import (API.md, CRM resources): a text/csv body, every row checked like a POST body,
 * all or nothing, one audit row per record, dedupe by email or phone for clients and leads.
 */
describe('CSV import', () => {
  let t: TestApp;
  let admin: SignedIn;
  let codes: string[];

  const csvPost = (path: string, csv: string | Buffer, auth: { token?: string; apiKey?: string }, headers = {}) =>
    t.http.request('POST', path, { ...auth, rawBody: csv, headers: { 'content-type': 'text/csv', ...headers } });
  const asAdmin = (path: string, csv: string | Buffer, headers = {}) =>
    csvPost(path, csv, { token: admin.accessToken }, headers);
  const count = async (sql: string, params: unknown[]): Promise<number> =>
    Number((await t.dataSource.query(sql, params))[0].n);
  const rowsOf = (table: string, where = 'TRUE', params: unknown[] = []) =>
    count(`SELECT count(*)::int AS n FROM ${table} WHERE team_id = $1 AND ${where}`, [admin.teamId, ...params]);
  const auditOf = (type: string, action: string) =>
    count(`SELECT count(*)::int AS n FROM audit_log WHERE team_id = $1 AND resource_type = $2 AND action = $3`, [
      admin.teamId,
      type,
      action,
    ]);

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerTeam(t, { teamName: 'Importers' });
    codes = (await enrolMfa(t, admin.accessToken)).backupCodes;
    admin = await loginOk(t, admin.email, STRONG_PASSWORD, { otp: codes.shift() });
  });
  afterAll(() => t?.close());

  it('imports clients: 200 {created, updated}, one audit row per record, assigned to the importing user', async () => {
    const before = await auditOf('client', 'CREATE');
    const csv = [
      'firstName,lastName,email,phone,clientType,status,notes,address',
      'Ada,Lovelace,ada@example.com,+1 415 555 0100,buyer,,First,"1 Main St, Springfield"',
      'Alan,Turing,,,seller,inactive,,',
      'Grace,Hopper,grace@example.com,,,,"multi-line',
      'note",',
    ].join('\n');
    const res = await asAdmin('/v1/clients/import', csv);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, data: { created: 3, updated: 0, dryRun: false } });
    expect(await auditOf('client', 'CREATE')).toBe(before + 3);
    const list = await t.http.get('/v1/clients?limit=100', { token: admin.accessToken });
    const byLast = Object.fromEntries(list.body.data.map((c: any) => [c.lastName, c]));
    expect(byLast.Lovelace).toMatchObject({
      firstName: 'Ada',
      email: 'ada@example.com',
      phone: '+1 415 555 0100',
      clientType: 'buyer',
      status: 'active', // empty cell: the default
      address: '1 Main St, Springfield',
      assignedTo: admin.userId,
      createdBy: admin.userId,
      version: 1,
    });
    expect(byLast.Turing).toMatchObject({ status: 'inactive', email: null, notes: null });
    expect(byLast.Hopper.notes).toBe('multi-line\nnote');
    // Each audit row is the record as the API shows it.
    const [audit] = await t.dataSource.query(
      `SELECT new_values FROM audit_log WHERE team_id = $1 AND resource_id = $2 AND action = 'CREATE'`,
      [admin.teamId, byLast.Lovelace.id],
    );
    expect(audit.new_values).toMatchObject({
      id: byLast.Lovelace.id,
      lastName: 'Lovelace',
      address: '1 Main St, Springfield',
    });
  });

  it('reads a UTF-8 BOM and CRLF line ends; numbers, money and dates are typed like JSON bodies', async () => {
    const csv =
      '\ufeffaddress,city,price,bedrooms,bathrooms,squareFeet,status,mlsNumber\r\n' +
      '"12 Elm St",Austin,450000.50,3,2.5,1800,pending,MLS-BOM-1\r\n' +
      '"9 Oak Ave, Unit ""B""",Austin,,,,,,\r\n';
    const res = await asAdmin('/v1/listings/import', csv);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ created: 2, updated: 0 });
    const list = await t.http.get('/v1/listings?limit=100&city=Austin', { token: admin.accessToken });
    const elm = list.body.data.find((l: any) => l.address === '12 Elm St');
    expect(elm).toMatchObject({ price: '450000.50', bedrooms: 3, bathrooms: 2.5, squareFeet: 1800, status: 'pending' });
    expect(list.body.data.find((l: any) => l.address === '9 Oak Ave, Unit "B"')).toMatchObject({ status: 'active' });
  });

  it('an unbalanced quote is 400 naming the row, and nothing is written', async () => {
    const before = await rowsOf('leads');
    const res = await asAdmin('/v1/leads/import', 'firstName,lastName\nAna,Ok\nBea,"Broken\nCid,Fine\n');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(res.body.error.message).toMatch(/row 2/);
    expect(res.body.error.details[0]).toMatchObject({ row: 2, field: null });
    expect(await rowsOf('leads')).toBe(before);
  });

  it('an unknown column is 400 naming it (read-only and system fields are unknown too)', async () => {
    for (const column of ['favouriteColour', 'id', 'createdAt', 'version', 'convertedClientId']) {
      const res = await asAdmin('/v1/leads/import', `firstName,lastName,${column}\nA,B,x\n`);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain(`"${column}"`);
      expect(res.body.error.details).toEqual([{ row: 0, field: column, message: `unknown column "${column}"` }]);
    }
    const empty = await asAdmin('/v1/leads/import', '');
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toMatch(/empty/);
    const headerOnly = await asAdmin('/v1/leads/import', ' firstName , lastName\n');
    expect(headerOnly.status).toBe(200);
    expect(headerOnly.body.data).toEqual({ created: 0, updated: 0, dryRun: false });
    const twice = await asAdmin('/v1/leads/import', 'firstName,lastName,lastName\nA,B,C\n');
    expect(twice.status).toBe(400);
    expect(twice.body.error.details[0].message).toMatch(/twice/);
  });

  it('an invalid enum in row 3 is 400 with details for row 3, and not one row is written', async () => {
    const beforeRows = await rowsOf('leads');
    const beforeAudit = await auditOf('lead', 'CREATE');
    const csv = [
      'firstName,lastName,email,leadType,leadStatus',
      'Row,One,one@example.com,buyer,new',
      'Row,Two,two@example.com,seller,contacted',
      'Row,Three,three@example.com,alien,new',
      'Row,Four,not-an-email,,converted',
      ',Five,,,',
    ].join('\n');
    const res = await asAdmin('/v1/leads/import', csv);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    const details = res.body.error.details as { row: number; field: string; message: string }[];
    expect(details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ row: 3, field: 'leadType' }),
        expect.objectContaining({ row: 4, field: 'email' }),
        // POST cannot set converted either.
        expect.objectContaining({ row: 4, field: 'leadStatus' }),
        { row: 5, field: 'firstName', message: 'firstName is required' },
      ]),
    );
    expect(details.some((d) => d.row === 1 || d.row === 2)).toBe(false);
    expect(await rowsOf('leads')).toBe(beforeRows);
    expect(await auditOf('lead', 'CREATE')).toBe(beforeAudit);
  });

  it('numbers that are not numbers and references to another team are row errors', async () => {
    const other = await registerTeam(t, { teamName: 'Other importers' });
    const theirs = await t.http.post(
      '/v1/clients',
      { firstName: 'Their', lastName: 'Client' },
      { token: other.accessToken },
    );
    const mine = await t.http.post(
      '/v1/clients',
      { firstName: 'My', lastName: 'Client' },
      { token: admin.accessToken },
    );
    const bad = await asAdmin('/v1/listings/import', 'address,bedrooms,price\n1 A St,three,10\n2 B St,2,12.345\n');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ row: 1, field: 'bedrooms' }),
        expect.objectContaining({ row: 2, field: 'price' }),
      ]),
    );
    const before = await rowsOf('appointments');
    const refs = await asAdmin(
      '/v1/appointments/import',
      `title,startsAt,clientId\nMine,2030-01-01T10:00:00Z,${mine.body.data.id}\nTheirs,2030-01-02T10:00:00Z,${theirs.body.data.id}\n`,
    );
    expect(refs.status).toBe(400);
    expect(refs.body.error.details).toEqual([{ row: 2, field: 'clientId', message: 'no such client in your team' }]);
    expect(await rowsOf('appointments')).toBe(before);
    const ok = await asAdmin(
      '/v1/appointments/import',
      `title,startsAt,clientId\nMine,2030-01-01T10:00:00Z,${mine.body.data.id}\n`,
    );
    expect(ok.status).toBe(200);
    expect(await rowsOf('appointments', 'client_id = $2', [mine.body.data.id])).toBe(1);
  });

  it('a 30 MB body is 413 PAYLOAD_TOO_LARGE in the envelope', async () => {
    const line = 'Big,Body,big@example.com\n';
    const body = Buffer.from('firstName,lastName,email\n' + line.repeat(Math.ceil((30 * 1024 * 1024) / line.length)));
    const res = await asAdmin('/v1/leads/import', body);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ success: false, error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(res.body.error.message).toMatch(/IMPORT_MAX_BYTES/);
  });

  it('more rows than IMPORT_MAX_ROWS is 413; exactly that many is fine', async () => {
    const small = await startTestApp({ database: t.database, env: { IMPORT_MAX_ROWS: '5' } });
    try {
      const rows = (n: number) =>
        ['firstName,lastName', ...Array.from({ length: n }, (_, i) => `Max,Rows ${i}`)].join('\n');
      const over = await small.http.request('POST', '/v1/leads/import', {
        token: admin.accessToken,
        rawBody: rows(6),
        headers: { 'content-type': 'text/csv' },
      });
      expect(over.status).toBe(413);
      expect(over.body.error.code).toBe('PAYLOAD_TOO_LARGE');
      expect(over.body.error.message).toMatch(/IMPORT_MAX_ROWS/);
      expect(await rowsOf('leads', `last_name LIKE 'Rows %'`)).toBe(0);
      const exact = await small.http.request('POST', '/v1/leads/import', {
        token: admin.accessToken,
        rawBody: rows(5),
        headers: { 'content-type': 'text/csv' },
      });
      expect(exact.status).toBe(200);
      expect(exact.body.data.created).toBe(5);
    } finally {
      await small.close();
    }
  });

  it('dedupeBy=email: a case-insensitive match is updated with the non-empty cells; duplicates in the file merge', async () => {
    const existing = await t.http.post(
      '/v1/clients',
      { firstName: 'Old', lastName: 'Name', email: 'Mixed.Case@Example.com', notes: 'keep me', clientType: 'buyer' },
      { token: admin.accessToken },
    );
    const id = existing.body.data.id;
    const beforeUpdates = await auditOf('client', 'UPDATE');
    const csv = [
      'firstName,lastName,email,phone,notes,clientType',
      'New,Name,mixed.case@EXAMPLE.com,+1 212 555 0199,,',
      'Fresh,Person,fresh@example.com,,first,',
      'Fresh,Person,FRESH@example.com,,,investor',
    ].join('\n');
    const res = await asAdmin('/v1/clients/import?dedupeBy=email', csv);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ created: 1, updated: 1, dryRun: false });
    const got = await t.http.get(`/v1/clients/${id}`, { token: admin.accessToken });
    expect(got.body.data).toMatchObject({
      firstName: 'New',
      phone: '+1 212 555 0199',
      notes: 'keep me', // empty cell: unchanged
      clientType: 'buyer',
      // A non-empty cell is written, the matched email too (in the file's spelling).
      email: 'mixed.case@EXAMPLE.com',
      version: 2,
    });
    expect(await auditOf('client', 'UPDATE')).toBe(beforeUpdates + 1);
    // The audit row carries this record's own old values for the fields the file set (not the whole row).
    const [entry] = await t.dataSource.query(
      `SELECT old_values, new_values FROM audit_log WHERE team_id = $1 AND resource_id = $2 AND action = 'UPDATE'`,
      [admin.teamId, id],
    );
    expect(entry.old_values).toMatchObject({ firstName: 'Old', email: 'Mixed.Case@Example.com', phone: null });
    expect(entry.old_values).not.toHaveProperty('notes');
    expect(entry.old_values).not.toHaveProperty('_previous');
    expect(entry.new_values).toMatchObject({ firstName: 'New', phone: '+1 212 555 0199' });
    expect(entry.new_values).not.toHaveProperty('_previous');
    const fresh = await t.dataSource.query(
      `SELECT notes, client_type FROM clients WHERE team_id = $1 AND lower(email) = 'fresh@example.com'`,
      [admin.teamId],
    );
    // One record from two rows: the first row's notes, the second row's type.
    expect(fresh).toEqual([{ notes: 'first', client_type: 'investor' }]);
  });

  it('dedupeBy=phone: the same number written in other formats matches; an unparseable phone is a row error', async () => {
    const existing = await t.http.post(
      '/v1/leads',
      { firstName: 'Phone', lastName: 'Match', phone: '(415) 555-0132', source: 'web' },
      { token: admin.accessToken },
    );
    const csv = [
      'firstName,lastName,phone,source',
      'Phone,Match,+1 415 555 0132,import',
      'Phone,Match,415.555.0132,',
    ].join('\r\n');
    const res = await asAdmin('/v1/leads/import?dedupeBy=phone', csv);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ created: 0, updated: 1, dryRun: false });
    const got = await t.http.get(`/v1/leads/${existing.body.data.id}`, { token: admin.accessToken });
    expect(got.body.data).toMatchObject({ source: 'import', phone: '415.555.0132' });
    const bad = await asAdmin('/v1/leads/import?dedupeBy=phone', 'firstName,lastName,phone\nNo,Phone,12\n');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([expect.objectContaining({ row: 1, field: 'phone' })]);
  });

  it('dedupeBy is for clients and leads only, and only email or phone', async () => {
    const listings = await asAdmin('/v1/listings/import?dedupeBy=email', 'address\n1 Nowhere\n');
    expect(listings.status).toBe(400);
    const bogus = await asAdmin('/v1/leads/import?dedupeBy=name', 'firstName,lastName\nA,B\n');
    expect(bogus.status).toBe(400);
    expect(await rowsOf('listings', `address = '1 Nowhere'`)).toBe(0);
  });

  it('dryRun=true validates and counts, and writes nothing', async () => {
    await t.http.post(
      '/v1/leads',
      { firstName: 'Dry', lastName: 'Existing', email: 'dry@example.com' },
      { token: admin.accessToken },
    );
    const beforeLeads = await rowsOf('leads');
    const beforeAudit = await count(`SELECT count(*)::int AS n FROM audit_log WHERE team_id = $1`, [admin.teamId]);
    const csv = 'firstName,lastName,email\nDry,Changed,DRY@example.com\nDry,New,drynew@example.com\n';
    const res = await asAdmin('/v1/leads/import?dryRun=true&dedupeBy=email', csv);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ created: 1, updated: 1, dryRun: true });
    expect(await rowsOf('leads')).toBe(beforeLeads);
    expect(await rowsOf('leads', `last_name = 'Changed'`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM audit_log WHERE team_id = $1`, [admin.teamId])).toBe(
      beforeAudit,
    );
    const invalid = await asAdmin('/v1/leads/import?dryRun=true', 'firstName,lastName,leadType\nA,B,nope\n');
    expect(invalid.status).toBe(400);
  });

  it('formula-looking cells are stored as given; the export neutralises them', async () => {
    const csv = 'firstName,lastName,notes,source\n=1+2,@SUM(A1),"=HYPERLINK(""http://evil.example"",""x"")",-2+3\n';
    const res = await asAdmin('/v1/leads/import', csv);
    expect(res.status).toBe(200);
    const [row] = await t.dataSource.query(
      `SELECT first_name, last_name, notes, source FROM leads WHERE team_id = $1 AND last_name = '@SUM(A1)'`,
      [admin.teamId],
    );
    expect(row).toEqual({
      first_name: '=1+2',
      last_name: '@SUM(A1)',
      notes: '=HYPERLINK("http://evil.example","x")',
      source: '-2+3',
    });
    const exported = await t.http.get('/v1/leads/export', { token: admin.accessToken });
    expect(exported.status).toBe(200);
    const table = parseCsv(exported.text);
    const header = table[0]!;
    const line = table.find((r) => r[header.indexOf('lastName')] === "'@SUM(A1)")!;
    expect(line[header.indexOf('firstName')]).toBe("'=1+2");
  });

  it('needs write permission: a viewer is 403; API keys with leads:write import, leads:read ones do not', async () => {
    const viewerEmail = `viewer-${Date.now()}@example.com`;
    const made = await t.http.post(
      '/v1/users',
      { email: viewerEmail, password: STRONG_PASSWORD, firstName: 'Vi', lastName: 'Ewer', role: 'viewer' },
      { token: admin.accessToken },
    );
    expect(made.status).toBe(201);
    const viewer = await loginOk(t, viewerEmail, STRONG_PASSWORD);
    const denied = await csvPost('/v1/leads/import', 'firstName,lastName\nA,B\n', { token: viewer.accessToken });
    expect(denied.status).toBe(403);

    const key = async (scopes: string[]) => {
      const res = await t.http.post(
        '/v1/api-keys',
        { name: scopes.join(' '), scopes, otp: codes.shift() },
        { token: admin.accessToken },
      );
      if (res.status !== 201) throw new Error(`key: ${res.status} ${res.text}`);
      return res.body.data as { id: string; key: string };
    };
    const reader = await key(['leads:read']);
    const readOnly = await csvPost('/v1/leads/import', 'firstName,lastName\nA,B\n', { apiKey: reader.key });
    expect(readOnly.status).toBe(403);
    expect(readOnly.body.error.code).toBe('INSUFFICIENT_SCOPE');
    const writer = await key(['leads:write']);
    const ok = await csvPost('/v1/leads/import', 'firstName,lastName\nVia,Key\n', { apiKey: writer.key });
    expect(ok.status).toBe(200);
    const [row] = await t.dataSource.query(
      `SELECT created_by, created_by_api_key, assigned_to FROM leads WHERE team_id = $1 AND last_name = 'Key'`,
      [admin.teamId],
    );
    expect(row).toEqual({ created_by: null, created_by_api_key: writer.id, assigned_to: null });
  });

  it('a CSV body anywhere else is still 415, and JSON on the import route is refused', async () => {
    const elsewhere = await asAdmin('/v1/leads', 'firstName,lastName\nA,B\n');
    expect(elsewhere.status).toBe(415);
    const json = await t.http.post('/v1/leads/import', { firstName: 'A', lastName: 'B' }, { token: admin.accessToken });
    expect(json.status).toBe(415);
  });

  it('Idempotency-Key covers imports: the same bytes replay, other bytes are 409', async () => {
    const key = `import-${Date.now()}`;
    const csv = 'firstName,lastName\nIdem,Import\n';
    const first = await asAdmin('/v1/leads/import', csv, { 'Idempotency-Key': key });
    const again = await asAdmin('/v1/leads/import', csv, { 'Idempotency-Key': key });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await rowsOf('leads', `last_name = 'Import'`)).toBe(1);
    const other = await asAdmin('/v1/leads/import', csv.replace('Idem', 'Other'), { 'Idempotency-Key': key });
    expect(other.status).toBe(409);
    const dry = await asAdmin('/v1/leads/import?dryRun=true', csv, { 'Idempotency-Key': key });
    expect(dry.status).toBe(409);
  });

  it("under agentVisibility 'assigned' an agent's import matches only its own records and cannot assign to others", async () => {
    const agentEmail = `agent-${Date.now()}@example.com`;
    const made = await t.http.post(
      '/v1/users',
      { email: agentEmail, password: STRONG_PASSWORD, firstName: 'Ag', lastName: 'Ent', role: 'agent' },
      { token: admin.accessToken },
    );
    expect(made.status).toBe(201);
    const agent = await loginOk(t, agentEmail, STRONG_PASSWORD);
    const hidden = await t.http.post(
      '/v1/clients',
      { firstName: 'Admins', lastName: 'Own', email: 'visibility@example.com', notes: 'untouched' },
      { token: admin.accessToken },
    );
    expect((await t.http.patch('/v1/team', { agentVisibility: 'assigned' }, { token: admin.accessToken })).status).toBe(
      200,
    );
    try {
      const res = await csvPost(
        '/v1/clients/import?dedupeBy=email',
        'firstName,lastName,email,notes\nAgents,Copy,visibility@example.com,changed\n',
        { token: agent.accessToken },
      );
      expect(res.status).toBe(200);
      // The admin's record is invisible to the agent: not matched, not changed; the agent gets its own.
      expect(res.body.data).toEqual({ created: 1, updated: 0, dryRun: false });
      const still = await t.http.get(`/v1/clients/${hidden.body.data.id}`, { token: admin.accessToken });
      expect(still.body.data).toMatchObject({ notes: 'untouched', version: 1 });
      const [copy] = await t.dataSource.query(
        `SELECT assigned_to FROM clients WHERE team_id = $1 AND last_name = 'Copy'`,
        [admin.teamId],
      );
      expect(copy.assigned_to).toBe(agent.userId);

      const giveAway = await csvPost(
        '/v1/clients/import',
        `firstName,lastName,assignedTo\nGift,Row,${admin.userId}\n`,
        {
          token: agent.accessToken,
        },
      );
      expect(giveAway.status).toBe(403);
      expect(await rowsOf('clients', `last_name = 'Row'`)).toBe(0);
    } finally {
      await t.http.patch('/v1/team', { agentVisibility: 'team' }, { token: admin.accessToken });
    }
  });

  it('imports 50,000 rows in one request (time logged, not asserted)', async () => {
    const n = 50_000;
    const lines = ['firstName,lastName,email,phone,leadType,source,notes'];
    for (let i = 0; i < n; i++)
      lines.push(
        `First${i},Bulk${i},bulk${i}@example.com,+1 415 555 ${String(i % 10000).padStart(4, '0')},buyer,bulk,"note ${i}, with comma"`,
      );
    const csv = lines.join('\n');
    const beforeAudit = await auditOf('lead', 'CREATE');
    const started = Date.now();
    const cpu = process.cpuUsage();
    const res = await asAdmin('/v1/leads/import', csv);
    const ms = Date.now() - started;
    const used = process.cpuUsage(cpu);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ created: n, updated: 0, dryRun: false });
    // Wall time depends on the machine's load (this process shares it with Postgres and anything else running).
    console.log(
      `import of ${n} rows (${(Buffer.byteLength(csv) / 1024 / 1024).toFixed(1)} MiB): ${ms} ms wall, ` +
        `${Math.round((used.user + used.system) / 1000)} ms CPU in this process (parse, validation, HTTP), ` +
        `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs`,
    );
    expect(await rowsOf('leads', `source = 'bulk'`)).toBe(n);
    expect(await auditOf('lead', 'CREATE')).toBe(beforeAudit + n);
    // Every audit row linked into the team's hash chain.
    expect(await verifyChains(t, admin.teamId)).toMatchObject({ ok: true, broken: [] });
  }, 600_000);
});
