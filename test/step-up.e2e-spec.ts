import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { SENSITIVE } from '../src/common/security/decorators';
import { TokenService } from '../src/modules/auth/token.service';
import { MfaController } from '../src/modules/mfa/mfa.controller';
import { UsersAdminController } from '../src/modules/users-admin/users-admin.controller';
import { STRONG_PASSWORD, type SignedIn, loginOk, registerTeam, uniqueEmail } from './helpers/auth';
import { type HttpResponse } from './helpers/http';
import { codeAt, enrolMfa } from './helpers/mfa';
import { type TestApp, startTestApp } from './helpers/test-app';

/**
 * Step-up (contract, Auth): every route that changes how an account signs in or who may act for the team
 * needs `auth_time` within REAUTH_WINDOW_MINUTES, whatever else it asks for. For each such route: a token
 * whose auth_time is older than the window (same user, same live session, signed by the app's own
 * TokenService) gets 401 REAUTH_REQUIRED and changes nothing; after POST /v1/auth/reauth the same call works.
 */

/** What a row's call needs: the caller, its stale token, and whatever the row set up. */
interface Ctx {
  caller: SignedIn;
  /** Backup codes of the caller when the row enrolled it in 2FA (reauth and prompts spend them). */
  codes: string[];
  /** Row-specific values (a target user's id, a pending TOTP secret...). */
  vars: Record<string, string>;
}

interface Row {
  name: string;
  /** Prepares the caller (fresh team) and anything the call needs, with a fresh token. */
  setup: (t: TestApp) => Promise<Ctx>;
  call: (t: TestApp, token: string, ctx: Ctx) => Promise<HttpResponse>;
  okStatus: number;
  /** Whether nothing happened after the refused call (read from the database). */
  unchanged?: (t: TestApp, ctx: Ctx) => Promise<void>;
}

async function admin(t: TestApp, withMfa: boolean): Promise<Ctx> {
  const caller = await registerTeam(t);
  const codes = withMfa ? (await enrolMfa(t, caller.accessToken)).backupCodes : [];
  return { caller, codes, vars: {} };
}

async function addMember(t: TestApp, ctx: Ctx, role = 'agent'): Promise<{ id: string; email: string }> {
  const email = uniqueEmail('member');
  const res = await t.http.post(
    '/v1/users',
    { email, password: STRONG_PASSWORD, firstName: 'M', lastName: 'Ember', role },
    { token: ctx.caller.accessToken },
  );
  if (res.status !== 201) throw new Error(`add member: ${res.status} ${res.text}`);
  return { id: res.body.data.id, email };
}

const userRow = async (t: TestApp, id: string) =>
  (
    await t.dataSource.query(`SELECT role, mfa_enabled, failed_login_attempts, locked_until FROM users WHERE id = $1`, [
      id,
    ])
  )[0] as { role: string; mfa_enabled: boolean; failed_login_attempts: number; locked_until: Date | null } | undefined;

const ROWS: Row[] = [
  {
    name: 'POST /v1/auth/2fa/setup',
    setup: (t) => admin(t, false),
    call: (t, token) => t.http.post('/v1/auth/2fa/setup', undefined, { token }),
    okStatus: 200,
    unchanged: async (t, ctx) => {
      const rows = await t.dataSource.query(`SELECT 1 FROM user_mfa WHERE user_id = $1`, [ctx.caller.userId]);
      expect(rows).toHaveLength(0);
    },
  },
  {
    name: 'POST /v1/auth/2fa/enable',
    setup: async (t) => {
      const ctx = await admin(t, false);
      const setup = await t.http.post('/v1/auth/2fa/setup', undefined, { token: ctx.caller.accessToken });
      ctx.vars.secret = setup.body.data.secret;
      return ctx;
    },
    call: (t, token, ctx) => t.http.post('/v1/auth/2fa/enable', { code: codeAt(ctx.vars.secret!) }, { token }),
    okStatus: 200,
    unchanged: async (t, ctx) => expect((await userRow(t, ctx.caller.userId))!.mfa_enabled).toBe(false),
  },
  {
    name: 'POST /v1/auth/2fa/disable',
    setup: (t) => admin(t, true),
    call: (t, token, ctx) =>
      t.http.post('/v1/auth/2fa/disable', { password: STRONG_PASSWORD, code: ctx.codes.pop() }, { token }),
    okStatus: 200,
    unchanged: async (t, ctx) => expect((await userRow(t, ctx.caller.userId))!.mfa_enabled).toBe(true),
  },
  {
    name: 'POST /v1/auth/2fa/backup-codes',
    setup: (t) => admin(t, true),
    call: (t, token, ctx) =>
      t.http.post('/v1/auth/2fa/backup-codes', { password: STRONG_PASSWORD, code: ctx.codes.pop() }, { token }),
    okStatus: 200,
  },
  {
    name: 'POST /v1/users',
    setup: (t) => admin(t, true),
    call: (t, token, ctx) =>
      t.http.post(
        '/v1/users',
        {
          email: (ctx.vars.email ??= uniqueEmail('new')),
          password: STRONG_PASSWORD,
          firstName: 'N',
          lastName: 'U',
          role: 'admin',
        },
        { token },
      ),
    okStatus: 201,
    unchanged: async (t, ctx) =>
      expect(await t.dataSource.query(`SELECT 1 FROM users WHERE email = $1`, [ctx.vars.email])).toHaveLength(0),
  },
  {
    name: 'PATCH /v1/users/:id',
    setup: async (t) => {
      const ctx = await admin(t, true);
      ctx.vars.id = (await addMember(t, ctx, 'viewer')).id;
      return ctx;
    },
    call: (t, token, ctx) => t.http.patch(`/v1/users/${ctx.vars.id}`, { role: 'admin' }, { token }),
    okStatus: 200,
    unchanged: async (t, ctx) => expect((await userRow(t, ctx.vars.id!))!.role).toBe('viewer'),
  },
  {
    name: 'DELETE /v1/users/:id (even with REQUIRE_REAUTH_FOR_DELETE=false)',
    setup: async (t) => {
      const ctx = await admin(t, true);
      ctx.vars.id = (await addMember(t, ctx)).id;
      return ctx;
    },
    call: (t, token, ctx) => t.http.delete(`/v1/users/${ctx.vars.id}`, { token }),
    okStatus: 200,
    unchanged: async (t, ctx) => expect(await userRow(t, ctx.vars.id!)).toBeDefined(),
  },
  {
    name: 'POST /v1/users/:id/unlock',
    setup: async (t) => {
      const ctx = await admin(t, true);
      const member = await addMember(t, ctx);
      ctx.vars.id = member.id;
      for (let i = 0; i < 3; i++)
        await t.http.post('/v1/auth/login', { email: member.email, password: 'Wrong-Password-123!' });
      expect((await userRow(t, member.id))!.locked_until).not.toBeNull();
      return ctx;
    },
    call: (t, token, ctx) => t.http.post(`/v1/users/${ctx.vars.id}/unlock`, undefined, { token }),
    okStatus: 200,
    unchanged: async (t, ctx) => expect((await userRow(t, ctx.vars.id!))!.locked_until).not.toBeNull(),
  },
  {
    name: 'DELETE /v1/users/:id/2fa',
    setup: async (t) => {
      const ctx = await admin(t, true);
      const member = await addMember(t, ctx);
      const signedIn = await loginOk(t, member.email, STRONG_PASSWORD);
      await enrolMfa(t, signedIn.accessToken);
      ctx.vars.id = member.id;
      return ctx;
    },
    call: (t, token, ctx) => t.http.delete(`/v1/users/${ctx.vars.id}/2fa`, { token }),
    okStatus: 200,
    unchanged: async (t, ctx) => expect((await userRow(t, ctx.vars.id!))!.mfa_enabled).toBe(true),
  },
  {
    name: 'POST /v1/users/:id/reassign',
    setup: async (t) => {
      const ctx = await admin(t, true);
      ctx.vars.id = (await addMember(t, ctx)).id;
      return ctx;
    },
    call: (t, token, ctx) =>
      t.http.post(`/v1/users/${ctx.vars.id}/reassign`, { toUserId: ctx.caller.userId }, { token }),
    okStatus: 200,
  },
  {
    name: 'POST /v1/api-keys',
    setup: (t) => admin(t, true),
    call: (t, token, ctx) =>
      t.http.post('/v1/api-keys', { name: 'k', scopes: ['clients:read'], otp: ctx.codes.pop() }, { token }),
    okStatus: 201,
    unchanged: async (t, ctx) =>
      expect(await t.dataSource.query(`SELECT 1 FROM api_keys WHERE team_id = $1`, [ctx.caller.teamId])).toHaveLength(
        0,
      ),
  },
  {
    name: 'PATCH /v1/team',
    setup: (t) => admin(t, true),
    call: (t, token) => t.http.patch('/v1/team', { name: 'Renamed' }, { token }),
    okStatus: 200,
    unchanged: async (t, ctx) =>
      expect((await t.dataSource.query(`SELECT name FROM teams WHERE id = $1`, [ctx.caller.teamId]))[0].name).toBe(
        'Team',
      ),
  },
  {
    name: 'POST /v1/webhooks',
    setup: (t) => admin(t, true),
    // Port 9 (discard) on loopback: nothing is delivered during this test (no CRM change happens).
    call: (t, token) =>
      t.http.post('/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['client.*'] }, { token }),
    okStatus: 201,
    unchanged: async (t, ctx) =>
      expect(await t.dataSource.query(`SELECT 1 FROM webhooks WHERE team_id = $1`, [ctx.caller.teamId])).toHaveLength(
        0,
      ),
  },
  {
    name: 'PATCH /v1/webhooks/:id',
    setup: async (t) => {
      const ctx = await admin(t, true);
      const hook = await t.http.post(
        '/v1/webhooks',
        { url: 'http://127.0.0.1:9/hook', events: ['client.*'] },
        { token: ctx.caller.accessToken },
      );
      if (hook.status !== 201) throw new Error(`webhook: ${hook.status} ${hook.text}`);
      ctx.vars.id = hook.body.data.id;
      return ctx;
    },
    call: (t, token, ctx) => t.http.patch(`/v1/webhooks/${ctx.vars.id}`, { active: false }, { token }),
    okStatus: 200,
    unchanged: async (t, ctx) =>
      expect((await t.dataSource.query(`SELECT active FROM webhooks WHERE id = $1`, [ctx.vars.id]))[0].active).toBe(
        true,
      ),
  },
];

describe('step-up: stale auth_time on every account-changing route', () => {
  let t: TestApp;
  let tokens: TokenService;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        MAX_LOGIN_ATTEMPTS: '3',
        REQUIRE_REAUTH_FOR_DELETE: 'false',
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        // The hooks here point at the discard port (9): nothing is delivered.
        WEBHOOK_ALLOWED_PORTS: '9',
      },
    });
    tokens = t.app.get(TokenService);
  });
  afterAll(() => t.close());

  /** The same user and live session, with an auth_time older than the window (5 minutes by default). */
  const stale = (s: SignedIn, minutesAgo = 6): string => {
    const claims = JSON.parse(Buffer.from(s.accessToken.split('.')[1]!, 'base64url').toString('utf8'));
    return tokens.signAccess({
      sub: claims.sub,
      team: claims.team,
      role: claims.role,
      sid: claims.sid,
      auth_time: Math.floor(Date.now() / 1000) - minutesAgo * 60,
    }).accessToken;
  };

  it.each(ROWS.map((r) => [r.name, r] as const))(
    '%s: 401 REAUTH_REQUIRED when stale; works after reauth',
    async (_n, row) => {
      const ctx = await row.setup(t);
      const old = stale(ctx.caller);

      const refused = await row.call(t, old, ctx);
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('REAUTH_REQUIRED');
      if (row.unchanged) await row.unchanged(t, ctx);

      // The stale token still reads: step-up guards changes, not the session.
      expect((await t.http.get('/v1/auth/me', { token: old })).status).toBe(200);

      const reauth = await t.http.post(
        '/v1/auth/reauth',
        { password: STRONG_PASSWORD, ...(ctx.codes.length ? { otp: ctx.codes.pop() } : {}) },
        { token: old },
      );
      expect(reauth.status).toBe(200);
      const fresh = reauth.body.data.accessToken as string;

      const done = await row.call(t, fresh, ctx);
      expect({ status: done.status, body: done.status === row.okStatus ? 'ok' : done.body }).toEqual({
        status: row.okStatus,
        body: 'ok',
      });
    },
  );

  it('an auth_time just inside the window passes; reads never need one', async () => {
    const ctx = await admin(t, true);
    const recent = stale(ctx.caller, 4);
    const res = await t.http.post(
      '/v1/users',
      { email: uniqueEmail('in-window'), password: STRONG_PASSWORD, firstName: 'I', lastName: 'W', role: 'agent' },
      { token: recent },
    );
    expect(res.status).toBe(201);
    const old = stale(ctx.caller, 60);
    expect((await t.http.get('/v1/users', { token: old })).status).toBe(200);
    expect((await t.http.get('/v1/api-keys', { token: old })).status).toBe(200);
    expect((await t.http.get('/v1/auth/2fa', { token: old })).status).toBe(200);
  });

  it('a token whose auth_time was edited (signature kept) is refused outright', async () => {
    const ctx = await admin(t, true);
    const [h, p] = ctx.caller.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8'));
    claims.auth_time = Math.floor(Date.now() / 1000) + 3600;
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${ctx.caller.accessToken.split('.')[2]}`;
    const res = await t.http.post(
      '/v1/api-keys',
      { name: 'k', scopes: ['clients:read'], otp: ctx.codes.pop() },
      { token: forged },
    );
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('every POST/PATCH/DELETE of the users and 2FA controllers declares step-up (a new route cannot forget it)', () => {
    const changing = [RequestMethod.POST, RequestMethod.PATCH, RequestMethod.DELETE];
    const routes: string[] = [];
    for (const controller of [UsersAdminController, MfaController]) {
      const proto = controller.prototype as unknown as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        if (typeof handler !== 'function' || name === 'constructor') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined || !changing.includes(method)) continue;
        routes.push(`${RequestMethod[method]} ${String(Reflect.getMetadata(PATH_METADATA, handler))}`);
        expect([name, Reflect.getMetadata(SENSITIVE, handler)]).toEqual([name, 'account']);
      }
    }
    // The table above covers each of them with a real request.
    expect(routes.length).toBeGreaterThanOrEqual(10);
  });
});
