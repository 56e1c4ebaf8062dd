import { createHash } from 'node:crypto';
import { VoidUnkeyedBackupCodes1733400070000 } from '../migrations/1733400070000-void-unkeyed-backup-codes';
import { runMigrations } from '../src/database/migrate';
import { BackupCodeVoidNotices } from '../src/modules/mfa/backup-code-void-notices';
import { normaliseBackupCode } from '../src/modules/mfa/totp';
import { readOutbox } from './helpers/outbox';
import { type TestApp, startTestApp } from './helpers/test-app';
import { STRONG_PASSWORD, login, loginOk, registerTeam } from './helpers/auth';
import { codeAt, enrolMfa, oathtoolAvailable, oathtoolCode } from './helpers/mfa';

const withOathtool = oathtoolAvailable() || process.env.CI === 'true' ? it : it.skip;
/** How backup codes were stored before keyed verifiers: the plain sha256 of the normalised code. */
const sha = (c: string) => createHash('sha256').update(normaliseBackupCode(c)).digest('hex');

describe('two-factor authentication (TOTP)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { MAX_LOGIN_ATTEMPTS: '50' } });
  });
  afterAll(() => t.close());

  withOathtool(
    'a code from an independent implementation (oathtool) enables 2FA and signs in; the same code twice is refused',
    async () => {
      const a = await registerTeam(t);
      const setup = await t.http.post('/v1/auth/2fa/setup', undefined, { token: a.accessToken });
      expect(setup.status).toBe(200);
      const { secret, otpauthUrl, qrCode } = setup.body.data;
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      expect(otpauthUrl).toBe(
        `otpauth://totp/Hearth%20CRM:${encodeURIComponent(a.email)}?secret=${secret}&period=30&digits=6&algorithm=SHA1&issuer=Hearth%20CRM`,
      );
      expect(qrCode).toMatch(/^data:image\/png;base64,/);
      // Not active until confirmed.
      expect((await login(t, a.email, STRONG_PASSWORD)).status).toBe(200);

      const enableCode = oathtoolCode(secret);
      const enable = await t.http.post('/v1/auth/2fa/enable', { code: enableCode }, { token: a.accessToken });
      expect(enable.status).toBe(200);
      expect(enable.body.data.backupCodes).toHaveLength(10);
      expect(new Set(enable.body.data.backupCodes).size).toBe(10);

      const noCode = await login(t, a.email, STRONG_PASSWORD);
      expect(noCode.status).toBe(401);
      expect(noCode.body.error.code).toBe('MFA_REQUIRED');
      // The enabling code was consumed: it cannot sign in.
      const replayEnable = await login(t, a.email, STRONG_PASSWORD, { otp: enableCode });
      expect(replayEnable.body.error.code).toBe('INVALID_MFA_CODE');
      const next = oathtoolCode(secret, 1);
      expect((await login(t, a.email, STRONG_PASSWORD, { otp: next })).status).toBe(200);
      const replay = await login(t, a.email, STRONG_PASSWORD, { otp: next });
      expect(replay.status).toBe(401);
      expect(replay.body.error.code).toBe('INVALID_MFA_CODE');
      const wrong = await login(t, a.email, STRONG_PASSWORD, { otp: '000000' });
      expect(wrong.body.error.code).toBe('INVALID_MFA_CODE');
      // A wrong password never reveals that 2FA is on.
      expect((await login(t, a.email, 'Wrong-Password-1!')).body.error.code).toBe('INVALID_CREDENTIALS');
    },
  );

  it('each backup code works exactly once, also under parallel use', async () => {
    const a = await registerTeam(t);
    const { backupCodes } = await enrolMfa(t, a.accessToken);
    expect((await login(t, a.email, STRONG_PASSWORD, { otp: backupCodes[0] })).status).toBe(200);
    expect((await login(t, a.email, STRONG_PASSWORD, { otp: backupCodes[0] })).body.error.code).toBe(
      'INVALID_MFA_CODE',
    );
    const racing = await Promise.all(
      Array.from({ length: 8 }, () => login(t, a.email, STRONG_PASSWORD, { otp: backupCodes[1]!.toUpperCase() })),
    );
    expect(racing.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('a database dump does not allow an offline search of backup codes; a code stored the old way (plain sha256) is refused', async () => {
    const a = await registerTeam(t);
    const { backupCodes } = await enrolMfa(t, a.accessToken);
    const stored = (
      await t.dataSource.query<{ code_hash: string }[]>(
        `SELECT b.code_hash FROM mfa_backup_codes b JOIN users u ON u.id = b.user_id WHERE u.email = $1`,
        [a.email],
      )
    ).map((r) => r.code_hash);
    expect(stored).toHaveLength(10);
    // What an attacker with the dump would try: the plain sha256 of every normalised candidate code.
    for (const code of backupCodes) expect(stored).not.toContain(sha(code));
    for (const h of stored) expect(h).toMatch(/^[0-9a-f]{64}$/);

    // No unkeyed verifier is left: a plain-sha256 row (however it got there) matches nothing.
    await t.dataSource.query(
      `INSERT INTO mfa_backup_codes (user_id, code_hash) SELECT id, $2 FROM users WHERE email = $1`,
      [a.email, sha('legacy-01')],
    );
    expect((await login(t, a.email, STRONG_PASSWORD, { otp: 'legacy-01' })).body.error.code).toBe('INVALID_MFA_CODE');
    expect((await login(t, a.email, STRONG_PASSWORD, { otp: backupCodes[3] })).status).toBe(200);
  });

  it('the migration voids backup codes stored before keyed verifiers; each owner with codes left is mailed once across instances; new codes work', async () => {
    const owner = await registerTeam(t);
    const enrolled = await enrolMfa(t, owner.accessToken);
    await t.dataSource.query(`INSERT INTO mfa_backup_codes (user_id, code_hash) VALUES ($1, $2)`, [
      owner.userId,
      sha('legacy-02'),
    ]);
    // Someone whose codes are all used has nothing to lose: not told.
    const spent = await registerTeam(t);
    await enrolMfa(t, spent.accessToken);
    await t.dataSource.query(`UPDATE mfa_backup_codes SET used_at = now() WHERE user_id = $1`, [spent.userId]);

    // The database as it was before the migration (with a legacy row), then the real migration runner.
    const migration = new VoidUnkeyedBackupCodes1733400070000();
    const runner = t.dataSource.createQueryRunner();
    try {
      await migration.down(runner);
      await runner.query(`DELETE FROM migrations WHERE name = $1`, [migration.name]);
    } finally {
      await runner.release();
    }
    expect(await runMigrations(t.config, t.database.url)).toEqual([migration.name]);
    const left = await t.dataSource.query(`SELECT count(*)::int AS n FROM mfa_backup_codes WHERE user_id = ANY($1)`, [
      [owner.userId, spent.userId],
    ]);
    expect(left[0].n).toBe(0);

    // Two instances start together on this database: each mails the due owners at start-up (nobody calls the job
    // here). One of them claims the owner, mails, and commits the notice.
    const sentAt = async () =>
      (
        await t.dataSource.query(`SELECT backup_codes_notice_sent_at AS at FROM user_mfa WHERE user_id = $1`, [
          owner.userId,
        ])
      )[0].at as Date | null;
    const [b, c] = await Promise.all([startTestApp({ database: t.database }), startTestApp({ database: t.database })]);
    try {
      const apps = [t, b, c];
      for (let i = 0; i < 100 && !(await sentAt()); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await sentAt()).not.toBeNull();
      // Then the job runs on all three at once, twice: nothing is due any more.
      for (let round = 0; round < 2; round++)
        expect(await Promise.all(apps.map((app) => app.app.get(BackupCodeVoidNotices).sendPending()))).toEqual([
          0, 0, 0,
        ]);
      const mailTo = (email: string) =>
        apps
          .flatMap((app) => readOutbox(app))
          .filter((m) => m.to.includes(email) && /new backup codes/i.test(m.subject));
      expect(mailTo(owner.email)).toHaveLength(1);
      expect(mailTo(owner.email)[0]!.text).toMatch(/no longer work/);
      expect(mailTo(spent.email)).toHaveLength(0);
      const [row] = await t.dataSource.query(
        `SELECT backup_codes_voided_at, backup_codes_notice_sent_at FROM user_mfa WHERE user_id = $1`,
        [owner.userId],
      );
      expect(row.backup_codes_voided_at).not.toBeNull();
      expect(row.backup_codes_notice_sent_at).not.toBeNull();
    } finally {
      await Promise.all([b.close(), c.close()]);
    }

    // The legacy code no longer signs in, nor does one issued before the migration (voided with it).
    expect((await login(t, owner.email, STRONG_PASSWORD, { otp: 'legacy-02' })).body.error.code).toBe(
      'INVALID_MFA_CODE',
    );
    expect((await login(t, owner.email, STRONG_PASSWORD, { otp: enrolled.backupCodes[0] })).body.error.code).toBe(
      'INVALID_MFA_CODE',
    );
    // The authenticator app still works; with it the owner makes new codes, and those work.
    const fresh = await t.http.post(
      '/v1/auth/2fa/backup-codes',
      { password: STRONG_PASSWORD, code: codeAt(enrolled.secret, 1) },
      { token: owner.accessToken },
    );
    expect(fresh.status).toBe(200);
    expect((await login(t, owner.email, STRONG_PASSWORD, { otp: fresh.body.data.backupCodes[0] })).status).toBe(200);
  });

  it('wrong codes count toward lockout', async () => {
    const t2 = await startTestApp({ env: { MAX_LOGIN_ATTEMPTS: '3' } });
    try {
      const a = await registerTeam(t2);
      await enrolMfa(t2, a.accessToken);
      expect((await login(t2, a.email, STRONG_PASSWORD, { otp: '111111' })).status).toBe(401);
      expect((await login(t2, a.email, STRONG_PASSWORD, { otp: '222222' })).status).toBe(401);
      const third = await login(t2, a.email, STRONG_PASSWORD, { otp: '333333' });
      expect(third.status).toBe(423);
    } finally {
      await t2.close();
    }
  });

  it('disable and backup-code regeneration need the password and a code', async () => {
    const a = await registerTeam(t);
    const { secret, backupCodes } = await enrolMfa(t, a.accessToken);
    const s = await loginOk(t, a.email, STRONG_PASSWORD, { otp: backupCodes[0] });
    expect(
      (
        await t.http.post(
          '/v1/auth/2fa/backup-codes',
          { password: 'Wrong-Password-1!', code: backupCodes[1] },
          { token: s.accessToken },
        )
      ).status,
    ).toBe(401);
    const fresh = await t.http.post(
      '/v1/auth/2fa/backup-codes',
      { password: STRONG_PASSWORD, code: backupCodes[1] },
      { token: s.accessToken },
    );
    expect(fresh.status).toBe(200);
    expect(fresh.body.data.backupCodes).toHaveLength(10);
    // The old set is void.
    expect((await login(t, a.email, STRONG_PASSWORD, { otp: backupCodes[2] })).body.error.code).toBe(
      'INVALID_MFA_CODE',
    );

    expect(
      (
        await t.http.post(
          '/v1/auth/2fa/disable',
          { password: STRONG_PASSWORD, code: '000000' },
          { token: s.accessToken },
        )
      ).status,
    ).toBe(401);
    const off = await t.http.post(
      '/v1/auth/2fa/disable',
      { password: STRONG_PASSWORD, code: codeAt(secret, 1) },
      { token: s.accessToken },
    );
    expect(off.status).toBe(200);
    expect((await login(t, a.email, STRONG_PASSWORD)).status).toBe(200);
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM security_events WHERE user_id = $1 AND event_type IN ('mfa_enabled', 'mfa_disabled')`,
      [a.userId],
    );
    expect(n).toBe(2);
  });

  it('reauth of a 2FA user needs the code too', async () => {
    const a = await registerTeam(t);
    const { backupCodes } = await enrolMfa(t, a.accessToken);
    const noCode = await t.http.post('/v1/auth/reauth', { password: STRONG_PASSWORD }, { token: a.accessToken });
    expect(noCode.body.error.code).toBe('MFA_REQUIRED');
    expect(
      (
        await t.http.post(
          '/v1/auth/reauth',
          { password: STRONG_PASSWORD, otp: backupCodes[0] },
          { token: a.accessToken },
        )
      ).status,
    ).toBe(200);
  });

  it('reset and change of password never bypass 2FA', async () => {
    const a = await registerTeam(t);
    await enrolMfa(t, a.accessToken);
    const next = 'Harbor-Violet-Stone-31!';
    expect(
      (
        await t.http.post(
          '/v1/auth/change-password',
          { currentPassword: STRONG_PASSWORD, newPassword: next },
          { token: a.accessToken },
        )
      ).status,
    ).toBe(200);
    expect((await login(t, a.email, next)).body.error.code).toBe('MFA_REQUIRED');
  });

  it('the database holds no TOTP secret or backup code in clear', async () => {
    const a = await registerTeam(t);
    const { secret, backupCodes } = await enrolMfa(t, a.accessToken);
    const dump = JSON.stringify([
      await t.dataSource.query(`SELECT * FROM user_mfa WHERE user_id = $1`, [a.userId]),
      await t.dataSource.query(`SELECT * FROM mfa_backup_codes WHERE user_id = $1`, [a.userId]),
    ]);
    expect(dump).not.toContain(secret);
    for (const code of backupCodes) {
      expect(dump).not.toContain(code);
      expect(dump).not.toContain(code.replace('-', ''));
    }
  });
});
