import { type TestApp, startTestApp } from './helpers/test-app';
import { STRONG_PASSWORD, loginOk, registerTeam } from './helpers/auth';

describe('auth smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('register → me → refresh → logout', async () => {
    const a = await registerTeam(t);
    const me = await t.http.get('/v1/auth/me', { token: a.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.data.email).toBe(a.email);
    const r = await t.http.post('/v1/auth/refresh', undefined, { cookie: a.cookie });
    expect(r.status).toBe(200);
    const again = await loginOk(t, a.email, STRONG_PASSWORD);
    expect(again.accessToken).toBeTruthy();
  });
});
