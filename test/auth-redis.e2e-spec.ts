import { type TestApp } from './helpers/test-app';
import { login, registerTeam } from './helpers/auth';
import { type InstancesOnRedis, describeWithRedis, startInstancesOnRedis } from './helpers/redis-server';

describeWithRedis('rate limits shared by several instances through Redis', () => {
  let instances: InstancesOnRedis | undefined;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    instances = await startInstancesOnRedis({ RATE_LIMIT_LOGIN_MAX: '5', MAX_LOGIN_ATTEMPTS: '100' });
    ({ a, b } = instances);
  });
  afterAll(() => instances?.close());

  it('failed logins on instance A and instance B add up to one limit', async () => {
    const user = await registerTeam(a);
    for (let i = 0; i < 3; i++) expect((await login(a, user.email, 'Wrong-Password-1!')).status).toBe(401);
    for (let i = 0; i < 2; i++) expect((await login(b, user.email, 'Wrong-Password-1!')).status).toBe(401);
    const onA = await login(a, user.email, 'Wrong-Password-1!');
    const onB = await login(b, user.email, 'Wrong-Password-1!');
    expect(onA.status).toBe(429);
    expect(onB.status).toBe(429);
    expect(onB.body.error.code).toBe('AUTH_RATE_LIMIT');
    expect(Number(onB.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
