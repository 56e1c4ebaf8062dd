import { type TestApp, startTestApp } from './helpers/test-app';
import { type SignedIn, registerTeam } from './helpers/auth';
import { enrolMfa } from './helpers/mfa';

/** API keys on the CRM routes: scopes decide, the key's team is the only team it sees, audit rows name the key. */
describe('API keys on CRM resources', () => {
  let t: TestApp;
  let admin: SignedIn;
  let codes: string[];
  const keyWith = async (scopes: string[], token = admin.accessToken, otp = codes.shift()!) => {
    const res = await t.http.post('/v1/api-keys', { name: scopes.join(' '), scopes, otp }, { token });
    if (res.status !== 201) throw new Error(`key: ${res.status} ${res.text}`);
    return res.body.data as { id: string; key: string };
  };

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerTeam(t);
    codes = (await enrolMfa(t, admin.accessToken)).backupCodes;
  });
  afterAll(() => t.close());

  it('a key with clients:read can list clients but cannot POST (403 INSUFFICIENT_SCOPE naming clients:write)', async () => {
    const { key } = await keyWith(['clients:read']);
    expect((await t.http.get('/v1/clients', { apiKey: key })).status).toBe(200);
    const post = await t.http.post('/v1/clients', { firstName: 'No', lastName: 'Write' }, { apiKey: key });
    expect(post.status).toBe(403);
    expect(post.body.error).toEqual({ code: 'INSUFFICIENT_SCOPE', message: 'Requires clients:write' });
    expect((await t.http.get('/v1/leads', { apiKey: key })).body.error.message).toBe('Requires leads:read');
    const [event] = await t.dataSource.query(
      `SELECT details FROM security_events WHERE event_type = 'insufficient_scope' ORDER BY created_at LIMIT 1`,
    );
    expect(event.details.required).toBe('clients:write');
  });

  it('*:read reads every resource and writes none', async () => {
    const { key } = await keyWith(['*:read']);
    for (const resource of ['clients', 'leads', 'appointments', 'escrows', 'listings']) {
      expect((await t.http.get(`/v1/${resource}`, { apiKey: key })).status).toBe(200);
    }
    expect((await t.http.post('/v1/leads', { firstName: 'A', lastName: 'B' }, { apiKey: key })).status).toBe(403);
  });

  it('writes through a key are audited with the key, and delete needs no password re-entry for keys', async () => {
    const { id, key } = await keyWith(['clients:write', 'clients:delete', 'clients:read']);
    const created = await t.http.post('/v1/clients', { firstName: 'Via', lastName: 'Key' }, { apiKey: key });
    expect(created.status).toBe(201);
    const [row] = await t.dataSource.query(`SELECT user_id, api_key_id FROM audit_log WHERE resource_id = $1`, [
      created.body.data.id,
    ]);
    expect(row).toEqual({ user_id: null, api_key_id: id });
    expect((await t.http.delete(`/v1/clients/${created.body.data.id}`, { apiKey: key })).status).toBe(200);
  });

  it('a key never reaches another team’s data', async () => {
    const other = await registerTeam(t);
    const theirClient = (
      await t.http.post('/v1/clients', { firstName: 'Their', lastName: 'Client' }, { token: other.accessToken })
    ).body.data;
    const { key } = await keyWith(['*:*']);
    expect((await t.http.get(`/v1/clients/${theirClient.id}`, { apiKey: key })).status).toBe(404);
    expect((await t.http.patch(`/v1/clients/${theirClient.id}`, { notes: 'x' }, { apiKey: key })).status).toBe(404);
    expect((await t.http.delete(`/v1/clients/${theirClient.id}`, { apiKey: key })).status).toBe(404);
    const list = await t.http.get('/v1/clients', { apiKey: key });
    expect(list.body.data.find((c: { id: string }) => c.id === theirClient.id)).toBeUndefined();
  });
});
