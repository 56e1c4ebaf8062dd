import { type ChildProcess, spawn } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { Webhook } from 'standardwebhooks';
import { SecretBox, keyCheck } from '../src/common/security/secret-box';
import { freePort } from '../src/common/net/free-port';
import { SEALED_COLUMNS } from '../src/modules/data-keys/sealed-columns';
import { type SignedIn, login, registerTeam } from './helpers/auth';
import { codeAt, enrolMfa } from './helpers/mfa';
import {
  TEST_ENCRYPTION_KEY,
  TEST_JWT_SECRET,
  type TestApp,
  type TestDatabase,
  createTestDatabase,
  startTestApp,
} from './helpers/test-app';
import { LOCAL_RECEIVER_PORTS, type ReceivedWebhook, WebhookReceiver } from './helpers/webhook-receiver';

/**
 * The data key ring (issue 29, docs/data-keys.md): the database records which keys its sealed values use; an
 * instance with another DATA_ENCRYPTION_KEY refuses to start (in-process and as the real process), a
 * rotation (new key current, old key previous, `npm run keys:rotate`, old key removed) keeps every secret
 * readable (TOTP, pending enrolment, backup codes, webhook signing secrets, idempotent answers), an
 * interrupted rotation finishes on the next run, and a value no key opens is a named log line and a 500
 * DATA_KEY_MISMATCH for that request only.
 */
// Each rotation spawns the keys:rotate script (ts-node) and restarts instances.
jest.setTimeout(180_000);

const KEY_A = TEST_ENCRYPTION_KEY;
const KEY_B = randomBytes(32).toString('hex');
const KEY_C = randomBytes(32).toString('base64');
const check = (hex: string) => keyCheck(Buffer.from(hex, 'hex'));
const ROOT = join(__dirname, '..');
const APP_ENV = {
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
  WEBHOOK_ALLOWED_PORTS: LOCAL_RECEIVER_PORTS,
  WEBHOOK_RETRY_BASE_SECONDS: '0.2',
  ENABLE_EMAIL_LOGIN_NOTIFICATIONS: 'false',
};

interface Finished {
  code: number | null;
  output: string;
}

/** A TypeScript entry point (src/main.ts, scripts/keys-rotate.ts) in its own process; resolves when it exits. */
function run(entry: string, env: Record<string, string>, args: string[] = [], stopOn?: RegExp): Promise<Finished> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', entry, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const take = (c: Buffer) => {
      output += c.toString();
      if (stopOn?.test(output)) child.kill('SIGKILL');
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

function rotate(database: TestDatabase, current: string, previous: string[], args: string[] = []): Promise<Finished> {
  return run(
    'scripts/keys-rotate.ts',
    {
      DATABASE_URL: database.url,
      DATA_ENCRYPTION_KEY: current,
      ...(previous.length ? { DATA_ENCRYPTION_KEY_PREVIOUS: previous.join(',') } : {}),
    },
    args,
  );
}

function instance(database: TestDatabase, current: string, previous: string[] = []): Promise<TestApp> {
  return startTestApp({
    database,
    env: {
      ...APP_ENV,
      DATA_ENCRYPTION_KEY: current,
      ...(previous.length ? { DATA_ENCRYPTION_KEY_PREVIOUS: previous.join(',') } : {}),
    },
  });
}

async function sql<T = any>(database: TestDatabase, text: string, params: unknown[] = []): Promise<T[]> {
  const pg = new Client({ connectionString: database.url });
  await pg.connect();
  try {
    return (await pg.query(text, params)).rows as T[];
  } finally {
    await pg.end();
  }
}

/** Every sealed value in the database, with the key id it carries. */
async function sealedValues(database: TestDatabase): Promise<Array<{ where: string; value: string }>> {
  const out: Array<{ where: string; value: string }> = [];
  for (const col of SEALED_COLUMNS)
    for (const r of await sql<{ v: string }>(
      database,
      `SELECT ${col.column} AS v FROM ${col.table} WHERE ${col.column} IS NOT NULL`,
    ))
      out.push({ where: `${col.table}.${col.column}`, value: r.v });
  return out;
}

const keyChecks = async (database: TestDatabase) =>
  (await sql<{ key_checks: string[] }>(database, `SELECT key_checks FROM data_key_state`))[0]?.key_checks;

/** Checked with the published Standard Webhooks library, not our own signer. */
function signatureVerifies(hit: ReceivedWebhook, secret: string): boolean {
  try {
    new Webhook(secret).verify(hit.body, {
      'webhook-id': String(hit.headers['webhook-id']),
      'webhook-timestamp': String(hit.headers['webhook-timestamp']),
      'webhook-signature': String(hit.headers['webhook-signature']),
    });
    return true;
  } catch {
    return false;
  }
}

/** TOTP sign-in; the last accepted step is cleared first so one code per 30 s window is not a wait. */
async function totpLogin(t: TestApp, user: SignedIn, secret: string) {
  await sql(t.database, `UPDATE user_mfa SET last_used_step = NULL WHERE user_id = $1`, [user.userId]);
  return login(t, user.email, user.password, { otp: codeAt(secret) });
}

describe('data keys: check value at start-up', () => {
  let database: TestDatabase;
  let a: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    a = await instance(database, KEY_A);
  });
  afterAll(async () => {
    await a?.close();
    await database?.drop();
  });

  it('records the key check at the first start', async () => {
    expect(await keyChecks(database)).toEqual([check(KEY_A)]);
    // The check value is an HMAC of a label, not the key or anything a key can be read from.
    expect(JSON.stringify(await sql(database, 'SELECT * FROM data_key_state'))).not.toContain(KEY_A);
  });

  it('an instance with another key (or previous keys that do not include the recorded one) refuses, naming DATA_ENCRYPTION_KEY', async () => {
    await expect(instance(database, KEY_B)).rejects.toThrow(/DATA_ENCRYPTION_KEY: .*sealed with another key/);
    await expect(instance(database, KEY_B, [KEY_C])).rejects.toThrow(/DATA_ENCRYPTION_KEY/);
    // Nothing was recorded for the refused keys, and the first instance is still ready.
    expect(await keyChecks(database)).toEqual([check(KEY_A)]);
    expect((await a.http.get('/health/ready')).status).toBe(200);
  });

  it('the real process exits non-zero before listening, and says why', async () => {
    const port = await freePort();
    const res = await run(
      'src/main.ts',
      {
        DATABASE_URL: database.url,
        DATA_ENCRYPTION_KEY: KEY_B,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: a.dataDir,
      },
      [],
      /listening on/,
    );
    expect(res.output).not.toMatch(/listening on/);
    expect(res.code).toBe(1);
    expect(res.output).toMatch(
      /Refusing to start: DATA_ENCRYPTION_KEY: the stored secrets were sealed with another key/,
    );
    expect(res.output).not.toContain(KEY_B);
  });
});

describe('data keys: rotation A → B', () => {
  let database: TestDatabase;
  let receiver: WebhookReceiver;
  let t: TestApp | undefined;
  let admin: SignedIn;
  let pendingUser: SignedIn;
  let mfaSecret: string;
  let backupCodes: string[];
  let pendingSecret: string;
  let hook: { id: string; secret: string };
  const idemKey = `rotation-${randomBytes(4).toString('hex')}`;
  const idemBody = { firstName: 'Ida', lastName: 'Empotent' };
  let firstAnswer: { status: number; text: string };

  const replay = async (app: TestApp) => {
    const res = await app.http.post('/v1/clients', idemBody, {
      token: admin.accessToken,
      headers: { 'Idempotency-Key': idemKey },
    });
    expect(res.headers.get('idempotent-replayed')).toBe('true');
    expect({ status: res.status, text: res.text }).toEqual(firstAnswer);
  };

  const signedDelivery = async (app: TestApp, lastName: string) => {
    const made = await app.http.post('/v1/clients', { firstName: 'Hook', lastName }, { token: admin.accessToken });
    expect(made.status).toBe(201);
    const [hit] = await receiver.waitFor((h) => h.json?.data?.lastName === lastName);
    expect(signatureVerifies(hit!, hook.secret)).toBe(true);
  };

  const everythingReads = async (app: TestApp, label: string) => {
    const signIn = await totpLogin(app, admin, mfaSecret);
    expect({ label, status: signIn.status }).toEqual({ label, status: 200 });
    await replay(app);
    await signedDelivery(app, `${label}-${randomBytes(3).toString('hex')}`);
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    receiver = await new WebhookReceiver().start();
    t = await instance(database, KEY_A);
    admin = await registerTeam(t);
    ({ secret: mfaSecret, backupCodes } = await enrolMfa(t, admin.accessToken));
    pendingUser = await registerTeam(t);
    const setup = await t.http.post('/v1/auth/2fa/setup', undefined, { token: pendingUser.accessToken });
    expect(setup.status).toBe(200);
    pendingSecret = setup.body.data.secret;
    const created = await t.http.post(
      '/v1/webhooks',
      { url: `${receiver.url}/hook`, events: ['client.created'] },
      { token: admin.accessToken },
    );
    expect(created.status).toBe(201);
    hook = created.body.data;
    const first = await t.http.post('/v1/clients', idemBody, {
      token: admin.accessToken,
      headers: { 'Idempotency-Key': idemKey },
    });
    expect(first.status).toBe(201);
    firstAnswer = { status: first.status, text: first.text };
    await t.close();
    t = undefined;
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
    await database?.drop();
  });

  it('values are sealed under A, with its key id', async () => {
    const values = await sealedValues(database);
    const wheres = new Set(values.map((v) => v.where));
    for (const where of [
      'user_mfa.secret_sealed',
      'user_mfa.pending_secret_sealed',
      'webhooks.secret_sealed',
      'idempotency_keys.response_body',
      'data_verifier_keys.key_sealed',
    ])
      expect(wheres).toContain(where);
    for (const v of values) expect(v.value.startsWith(`v2:${check(KEY_A).slice(0, 8)}:`)).toBe(true);
  });

  it('with B current and A previous: everything reads, new values are sealed under B, A alone is refused', async () => {
    t = await instance(database, KEY_B, [KEY_A]);
    expect(await keyChecks(database)).toEqual([check(KEY_A), check(KEY_B)]);
    await everythingReads(t, 'ab');
    const more = await t.http.post(
      '/v1/webhooks',
      { url: `${receiver.url}/other`, events: ['client.updated'] },
      { token: admin.accessToken },
    );
    expect(more.status).toBe(201);
    const [row] = await sql(database, `SELECT secret_sealed FROM webhooks WHERE id = $1`, [more.body.data.id]);
    expect(row.secret_sealed.startsWith(`v2:${check(KEY_B).slice(0, 8)}:`)).toBe(true);
    // Some values are now under B: an instance with A alone could not read them.
    await expect(instance(database, KEY_A)).rejects.toThrow(/DATA_ENCRYPTION_KEY: .*keys this instance does not have/);
  });

  it('keys:rotate re-seals everything under B; the database then records B alone; an A instance stops being ready', async () => {
    // Still running A as current (started during the rotation with B as previous): fits until the rotation ends.
    const lagging = await instance(database, KEY_A, [KEY_B]);
    try {
      expect((await lagging.http.get('/health/ready')).status).toBe(200);
      const res = await rotate(database, KEY_B, [KEY_A]);
      expect(res.output).toMatch(/rotation complete/);
      expect(res.code).toBe(0);
      for (const v of await sealedValues(database))
        expect({ where: v.where, b: v.value.startsWith(`v2:${check(KEY_B).slice(0, 8)}:`) }).toEqual({
          where: v.where,
          b: true,
        });
      expect(await keyChecks(database)).toEqual([check(KEY_B)]);
      const ready = await lagging.http.get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.error.code).toBe('SERVICE_UNAVAILABLE');
      expect((await t!.http.get('/health/ready')).status).toBe(200);
    } finally {
      await lagging.close();
    }
    // Run again: nothing to do, still complete.
    const again = await rotate(database, KEY_B, [KEY_A]);
    expect(again.code).toBe(0);
    expect(again.output).toMatch(/^0 value\(s\) re-sealed/m);
  });

  it('with B alone after the rotation: TOTP, backup codes, pending enrolment, webhook signatures and replays all work', async () => {
    await t!.close();
    t = await instance(database, KEY_B);
    await everythingReads(t, 'b');
    // Backup codes are keyed hashes: their HMAC key was re-sealed, not re-derived, so they still verify.
    const withBackup = await login(t, admin.email, admin.password, { otp: backupCodes[0] });
    expect(withBackup.status).toBe(200);
    const enabled = await t.http.post(
      '/v1/auth/2fa/enable',
      { code: codeAt(pendingSecret) },
      { token: pendingUser.accessToken },
    );
    expect(enabled.status).toBe(200);
    // An A instance is refused now that nothing is sealed under A. (A with B as previous would start: that is
    // a rotation back to A, indistinguishable from a planned one.)
    await expect(instance(database, KEY_A)).rejects.toThrow(/DATA_ENCRYPTION_KEY/);
  });
});

describe('data keys: an interrupted keys:rotate finishes on the next run', () => {
  let database: TestDatabase;
  let t: TestApp | undefined;

  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  it('stops at --limit, leaves the rest and both keys recorded; the next run finishes; the API keeps answering', async () => {
    database = await createTestDatabase();
    t = await instance(database, KEY_A);
    const admin = await registerTeam(t);
    const answers = new Map<string, string>();
    for (let i = 0; i < 6; i++) {
      const key = `interrupt-${i}`;
      const res = await t.http.post(
        '/v1/clients',
        { firstName: 'Row', lastName: `N${i}` },
        {
          token: admin.accessToken,
          headers: { 'Idempotency-Key': key },
        },
      );
      expect(res.status).toBe(201);
      answers.set(key, res.text);
    }
    await t.close();
    t = await instance(database, KEY_B, [KEY_A]);
    const total = (await sealedValues(database)).length;
    expect(total).toBeGreaterThanOrEqual(7);

    const partial = await rotate(database, KEY_B, [KEY_A], ['--batch-size', '1', '--limit', '3']);
    expect(partial.output).toMatch(/^3 value\(s\) re-sealed/m);
    expect(partial.output).toMatch(/run `npm run keys:rotate` again/);
    expect(partial.code).toBe(3);
    const underB = (await sealedValues(database)).filter((v) => v.value.startsWith(`v2:${check(KEY_B).slice(0, 8)}:`));
    expect(underB).toHaveLength(3);
    expect(await keyChecks(database)).toEqual([check(KEY_A), check(KEY_B)]);

    // Half-way, with the API running: every answer still replays.
    for (const [key, text] of answers) {
      const res = await t.http.post(
        '/v1/clients',
        { firstName: 'Row', lastName: `N${key.split('-')[1]}` },
        {
          token: admin.accessToken,
          headers: { 'Idempotency-Key': key },
        },
      );
      expect(res.text).toBe(text);
    }

    const rest = await rotate(database, KEY_B, [KEY_A], ['--batch-size', '2']);
    expect(rest.output).toMatch(new RegExp(`^${total - 3} value\\(s\\) re-sealed`, 'm'));
    expect(rest.code).toBe(0);
    expect(await keyChecks(database)).toEqual([check(KEY_B)]);
  });
});

describe('data keys: a value no configured key opens', () => {
  let database: TestDatabase;
  let t: TestApp;
  let admin: SignedIn;
  let mfaSecret: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    t = await instance(database, KEY_A);
    admin = await registerTeam(t);
    mfaSecret = (await enrolMfa(t, admin.accessToken)).secret;
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await t?.close();
    await database?.drop();
  });

  it('is a 500 DATA_KEY_MISMATCH for that request only, and a log line naming the table and row', async () => {
    const errors = jest.spyOn(Logger.prototype, 'error');
    const strange = new SecretBox(Buffer.from(KEY_C, 'base64'));
    const key = `strange-${randomBytes(3).toString('hex')}`;
    const first = await t.http.post(
      '/v1/clients',
      { firstName: 'Odd', lastName: 'One' },
      {
        token: admin.accessToken,
        headers: { 'Idempotency-Key': key },
      },
    );
    expect(first.status).toBe(201);
    // The stored answer and the TOTP secret re-sealed under a key this instance does not have.
    const owner = `idempotency:${admin.teamId}:user:${admin.userId}:${key}`;
    await sql(database, `UPDATE idempotency_keys SET response_body = $1 WHERE idempotency_key = $2`, [
      strange.seal(first.text, owner),
      key,
    ]);
    await sql(database, `UPDATE user_mfa SET secret_sealed = $1 WHERE user_id = $2`, [
      strange.seal(mfaSecret, admin.userId),
      admin.userId,
    ]);

    const replay = await t.http.post(
      '/v1/clients',
      { firstName: 'Odd', lastName: 'One' },
      {
        token: admin.accessToken,
        headers: { 'Idempotency-Key': key },
      },
    );
    expect(replay.status).toBe(500);
    expect(replay.body.error.code).toBe('DATA_KEY_MISMATCH');
    expect(replay.text).not.toContain('Odd');
    const signIn = await totpLogin(t, admin, mfaSecret);
    expect(signIn.status).toBe(500);
    expect(signIn.body.error.code).toBe('DATA_KEY_MISMATCH');

    const logged = errors.mock.calls.map((c) => String(c[0]));
    expect(logged).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`idempotency_keys.response_body row ${admin.teamId}/user/${admin.userId}/${key}`),
        expect.stringContaining(`user_mfa.secret_sealed row ${admin.userId}`),
      ]),
    );
    // Everything else answers as before.
    expect((await t.http.get('/v1/clients', { token: admin.accessToken })).status).toBe(200);
    expect((await t.http.get('/health/ready')).status).toBe(200);
  });

  it('keys:rotate names the unreadable values, exits 1 and does not record the rotation as done', async () => {
    await t.close();
    t = await instance(database, KEY_B, [KEY_A]);
    const res = await rotate(database, KEY_B, [KEY_A]);
    expect(res.output).toMatch(/UNREADABLE user_mfa\.secret_sealed row /);
    expect(res.output).toMatch(/UNREADABLE idempotency_keys\.response_body row /);
    expect(res.code).toBe(1);
    expect(await keyChecks(database)).toEqual([check(KEY_A), check(KEY_B)]);
  });
});

describe('data keys: a database from before key checks (v1 values, no recorded state)', () => {
  let database: TestDatabase;
  let t: TestApp | undefined;

  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  /** `v1:` as earlier releases sealed it: no key id. */
  const sealV1 = (keyHex: string, plaintext: string, aad: string) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  };

  it('the first start samples the stored values: another key is refused; the right one (even as previous) is recorded', async () => {
    database = await createTestDatabase();
    t = await instance(database, KEY_A);
    const admin = await registerTeam(t);
    const { secret, backupCodes } = await enrolMfa(t, admin.accessToken);
    await t.close();
    t = undefined;
    // As an earlier release left it: v1 secret, no key state, no stored verifier key (backup codes hashed
    // under HKDF of the data key, which is what the first start must store as their key).
    await sql(database, `UPDATE user_mfa SET secret_sealed = $1 WHERE user_id = $2`, [
      sealV1(KEY_A, secret, admin.userId),
      admin.userId,
    ]);
    await sql(database, `DELETE FROM data_key_state`);
    await sql(database, `DELETE FROM data_verifier_keys`);

    await expect(instance(database, KEY_B)).rejects.toThrow(
      /DATA_ENCRYPTION_KEY: the stored secrets were sealed with another key: user_mfa\.secret_sealed row /,
    );
    expect(await keyChecks(database)).toBeUndefined();

    t = await instance(database, KEY_B, [KEY_A]);
    expect(await keyChecks(database)).toEqual([check(KEY_B), check(KEY_A)]);
    expect((await totpLogin(t, admin, secret)).status).toBe(200);
    expect((await login(t, admin.email, admin.password, { otp: backupCodes[1] })).status).toBe(200);
    const res = await rotate(database, KEY_B, [KEY_A]);
    expect(res.code).toBe(0);
    await t.close();
    t = await instance(database, KEY_B);
    expect((await totpLogin(t, admin, secret)).status).toBe(200);
    expect((await login(t, admin.email, admin.password, { otp: backupCodes[2] })).status).toBe(200);
  });
});

describe('data keys: renewing the HMAC keys of keyed hashes (suspected compromise)', () => {
  let database: TestDatabase;
  let t: TestApp | undefined;

  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  it('voids every backup code; new ones work; TOTP is untouched; an unknown option is refused', async () => {
    database = await createTestDatabase();
    t = await instance(database, KEY_A);
    const admin = await registerTeam(t);
    const { secret, backupCodes } = await enrolMfa(t, admin.accessToken);
    const typo = await rotate(database, KEY_A, [], ['--renew-verifier-key']);
    expect(typo.code).toBe(2);
    expect(typo.output).toMatch(/unknown option --renew-verifier-key /);
    const [before] = await sql(database, `SELECT key_sealed FROM data_verifier_keys WHERE purpose = 'backup-codes'`);

    const res = await rotate(database, KEY_A, [], ['--renew-verifier-keys']);
    expect(res.output).toMatch(/backup-codes: new HMAC key; 10 digest\(s\) of 1 user\(s\) voided/);
    expect(res.code).toBe(0);
    const [after] = await sql(database, `SELECT key_sealed FROM data_verifier_keys WHERE purpose = 'backup-codes'`);
    expect(after.key_sealed).not.toBe(before.key_sealed);

    const old = await login(t, admin.email, admin.password, { otp: backupCodes[0] });
    expect(old.status).toBe(401);
    expect(old.body.error.code).toBe('INVALID_MFA_CODE');
    expect((await totpLogin(t, admin, secret)).status).toBe(200);
    await sql(database, `UPDATE user_mfa SET last_used_step = NULL WHERE user_id = $1`, [admin.userId]);
    const fresh = await t.http.post(
      '/v1/auth/2fa/backup-codes',
      { password: admin.password, code: codeAt(secret) },
      { token: admin.accessToken },
    );
    expect(fresh.status).toBe(200);
    expect((await login(t, admin.email, admin.password, { otp: fresh.body.data.backupCodes[0] })).status).toBe(200);
  });
});

describe('data keys: the catalogue of sealed columns', () => {
  let database: TestDatabase;
  afterAll(() => database?.drop());

  it('lists every *_sealed column of the schema, and each listed column exists', async () => {
    database = await createTestDatabase();
    const columns = await sql<{ table_name: string; column_name: string }>(
      database,
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = 'public' AND column_name LIKE '%\\_sealed'`,
    );
    const listed = new Set(SEALED_COLUMNS.map((c) => `${c.table}.${c.column}`));
    for (const c of columns) expect(listed).toContain(`${c.table_name}.${c.column_name}`);
    for (const c of SEALED_COLUMNS) {
      const found = await sql(
        database,
        `SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2`,
        [c.table, c.column],
      );
      expect({ column: `${c.table}.${c.column}`, found: found.length }).toEqual({
        column: `${c.table}.${c.column}`,
        found: 1,
      });
    }
  });
});
