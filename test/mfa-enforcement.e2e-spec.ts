import { type TestApp, startTestApp } from './helpers/test-app';
import { STRONG_PASSWORD, registerTeam } from './helpers/auth';
import { enrolMfa } from './helpers/mfa';

describe('admins without 2FA', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('get 403 MFA_ENROLLMENT_REQUIRED on user management and key creation until they enrol', async () => {
    const admin = await registerTeam(t);
    const attempts = () => [
      t.http.get('/v1/users', { token: admin.accessToken }),
      t.http.post(
        '/v1/users',
        {
          email: `x-${Date.now()}@example.com`,
          password: STRONG_PASSWORD,
          firstName: 'A',
          lastName: 'B',
          role: 'agent',
        },
        { token: admin.accessToken },
      ),
      t.http.get('/v1/api-keys', { token: admin.accessToken }),
    ];
    for (const res of await Promise.all(attempts())) {
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('MFA_ENROLLMENT_REQUIRED');
    }
    // CRM work does not need 2FA.
    expect((await t.http.get('/v1/clients', { token: admin.accessToken })).status).toBe(200);
    await enrolMfa(t, admin.accessToken);
    // The same access token works at once: the session cache was refreshed on enrolment.
    const [users, created, keys] = await Promise.all(attempts());
    expect(users!.status).toBe(200);
    expect(created!.status).toBe(201);
    expect(keys!.status).toBe(200);
  });
});
