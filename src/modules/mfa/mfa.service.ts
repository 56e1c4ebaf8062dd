import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import QRCode from 'qrcode';
import { DataSource, EntityManager } from 'typeorm';
import { AppException } from '../../common/http/app.exception';
import { MfaVerifier } from '../../common/security/mfa-verifier';
import { Actor, UserPrincipal } from '../../common/security/principal';
import { AccountNotices } from '../auth/account-notices.service';
import { LockoutService, type LockoutSubject, Verdict } from '../auth/lockout.service';
import { SessionsService } from '../auth/sessions.service';
import { PasswordHasher } from '../passwords/password-hasher.service';
import { DataKeys } from '../data-keys/data-keys.service';
import { SecurityEventsService, eventContext } from '../security-events/security-events.service';
import { UsersRepository } from '../users/users.module';
import { queryAffected, queryRows } from '../../database/query-rows';
import { matchingStep, newBackupCode, normaliseBackupCode, totp } from './totp';

const ISSUER = 'Hearth CRM';
/** The keyed-hash purpose of backup codes (its HMAC key is stored by DataKeys). */
const BACKUP_CODES = 'backup-codes';
const BACKUP_CODE_COUNT = 10;

/**
 * TOTP two-factor authentication: enrolment with a QR code, one-time backup codes, and the second-factor
 * check used by login, re-auth and API key creation (as the MfaVerifier the auth module depends on).
 */
@Injectable()
export class MfaService implements MfaVerifier {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly dataKeys: DataKeys,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionsService,
    private readonly events: SecurityEventsService,
    private readonly users: UsersRepository,
    private readonly lockout: LockoutService,
    private readonly notices: AccountNotices,
  ) {}

  private openSecret(sealed: string, userId: string, column: 'secret_sealed' | 'pending_secret_sealed'): string {
    return this.dataKeys.open(sealed, userId, { table: 'user_mfa', column, row: userId });
  }

  async setup(principal: UserPrincipal): Promise<{ secret: string; otpauthUrl: string; qrCode: string }> {
    const user = await this.users.findMfaEnabled(principal.userId);
    if (user?.mfa_enabled)
      throw AppException.conflict(
        'Two-factor authentication is already enabled; disable it first to enrol a new device',
      );
    const secret = totp.generateSecret(20);
    await queryRows(
      this.dataSource.manager,
      `INSERT INTO user_mfa (user_id, pending_secret_sealed, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (user_id) DO UPDATE SET pending_secret_sealed = EXCLUDED.pending_secret_sealed, updated_at = now()`,
      [principal.userId, this.dataKeys.seal(secret, principal.userId)],
    );
    const otpauthUrl = totp.keyuri(principal.email, ISSUER, secret);
    const qrCode = await QRCode.toDataURL(otpauthUrl, { errorCorrectionLevel: 'M', margin: 2, width: 240 });
    return { secret, otpauthUrl, qrCode };
  }

  private async issueBackupCodes(userId: string, m: EntityManager): Promise<string[]> {
    const codes = Array.from({ length: BACKUP_CODE_COUNT }, newBackupCode);
    const verifier = await this.dataKeys.verifier(BACKUP_CODES);
    await queryRows(m, `DELETE FROM mfa_backup_codes WHERE user_id = $1`, [userId]);
    await queryRows(m, `INSERT INTO mfa_backup_codes (user_id, code_hash) SELECT $1, unnest($2::text[])`, [
      userId,
      codes.map((c) => verifier.digest(normaliseBackupCode(c), userId)),
    ]);
    return codes;
  }

  async enable(principal: UserPrincipal, code: string, actor: Actor): Promise<{ backupCodes: string[] }> {
    const [row] = await queryRows<{ pending_secret_sealed: string | null }>(
      this.dataSource.manager,
      `SELECT pending_secret_sealed FROM user_mfa WHERE user_id = $1`,
      [principal.userId],
    );
    if (!row?.pending_secret_sealed)
      throw AppException.validation('Start with POST /v1/auth/2fa/setup', [
        { field: 'code', errors: ['no enrolment in progress'] },
      ]);
    const secret = this.openSecret(row.pending_secret_sealed, principal.userId, 'pending_secret_sealed');
    const found: { step: number | null } = { step: null };
    await this.lockout.check(this.subject(principal), actor, '2fa-enable', () => {
      found.step = matchingStep(code, secret);
      return found.step === null
        ? Verdict.wrongCode(
            'wrong_mfa_code',
            new AppException('INVALID_MFA_CODE', 'The code is not valid; check the time on your device and try again'),
          )
        : Verdict.right();
    });
    const backupCodes = await this.dataSource.transaction(async (m) => {
      await queryRows(
        m,
        `UPDATE user_mfa SET secret_sealed = pending_secret_sealed, pending_secret_sealed = NULL, enabled_at = now(), last_used_step = $2, updated_at = now()
          WHERE user_id = $1`,
        [principal.userId, found.step],
      );
      await this.users.setMfaEnabled(principal.userId, true, m);
      return this.issueBackupCodes(principal.userId, m);
    });
    const revoked = await this.sessions.revokeAllForUser(principal.userId, 'mfa_enabled', principal.sessionId);
    this.sessions.forgetUser(principal.userId);
    await this.events.record('mfa_enabled', 'medium', eventContext(actor, { otherSessionsRevoked: revoked.length }));
    await this.notices.securityChange({
      to: principal.email,
      subject: 'Two-factor authentication is on for your Hearth CRM account',
      what: 'Two-factor authentication was turned on for your account: signing in now also asks for a code.',
      ip: actor.ip,
      revokedSessions: revoked.length,
    });
    return { backupCodes };
  }

  private subject(principal: UserPrincipal): LockoutSubject {
    return { id: principal.userId, team_id: principal.teamId };
  }

  /**
   * Password and a second factor: what disabling 2FA or replacing backup codes requires. One prompt, one counted
   * attempt (LockoutService): a wrong password or code counts toward the account's lock, and 423 while it holds.
   */
  private async confirm(principal: UserPrincipal, password: string, code: string, actor: Actor, prompt: string) {
    const user = await this.users.findPasswordHashAndMfa(principal.userId);
    if (!user?.mfa_enabled)
      throw AppException.validation('Two-factor authentication is not enabled', [
        { field: 'code', errors: ['2FA is not enabled'] },
      ]);
    await this.lockout.check(this.subject(principal), actor, prompt, async () => {
      if (!(await this.hasher.verify(user.password_hash, password)))
        return Verdict.wrongPassword(
          'wrong_password',
          new AppException('INVALID_CREDENTIALS', 'The password is not correct'),
        );
      if (!(await this.verifyLoginCode(principal.userId, code)))
        return Verdict.wrongCode('wrong_mfa_code', new AppException('INVALID_MFA_CODE', 'The code is not valid'));
      return Verdict.right();
    });
  }

  /** A second-factor prompt on its own (API key creation's `otp`), counted like every other prompt. */
  async confirmCode(principal: UserPrincipal, code: string, actor: Actor, prompt: string): Promise<void> {
    await this.lockout.check(this.subject(principal), actor, prompt, async () =>
      (await this.verifyLoginCode(principal.userId, code))
        ? Verdict.right()
        : Verdict.wrongCode('wrong_mfa_code', new AppException('INVALID_MFA_CODE', 'The 2FA code is not valid')),
    );
  }

  async disable(principal: UserPrincipal, password: string, code: string, actor: Actor): Promise<void> {
    await this.confirm(principal, password, code, actor, '2fa-disable');
    await this.dataSource.transaction((m) => this.turnOff(principal.userId, m));
    const revoked = await this.sessions.revokeAllForUser(principal.userId, 'mfa_disabled', principal.sessionId);
    this.sessions.forgetUser(principal.userId);
    await this.events.record('mfa_disabled', 'high', eventContext(actor, { otherSessionsRevoked: revoked.length }));
    await this.notices.securityChange({
      to: principal.email,
      subject: 'Two-factor authentication is off for your Hearth CRM account',
      what: 'Two-factor authentication was turned off for your account: signing in now asks only for the password.',
      ip: actor.ip,
      revokedSessions: revoked.length,
    });
  }

  /** The secret, any enrolment in progress and every backup code gone; the user no longer has 2FA. */
  private async turnOff(userId: string, m: EntityManager): Promise<void> {
    await queryRows(m, `DELETE FROM user_mfa WHERE user_id = $1`, [userId]);
    await queryRows(m, `DELETE FROM mfa_backup_codes WHERE user_id = $1`, [userId]);
    await this.users.setMfaEnabled(userId, false, m);
  }

  /**
   * An admin's reset (lost phone and codes), in the admin's transaction: 2FA off for `userId`. The caller
   * revokes the sessions, writes the audit row and the event, and mails the user.
   */
  resetForUser(userId: string, m: EntityManager): Promise<void> {
    return this.turnOff(userId, m);
  }

  async regenerateBackupCodes(
    principal: UserPrincipal,
    password: string,
    code: string,
    actor: Actor,
  ): Promise<{ backupCodes: string[] }> {
    await this.confirm(principal, password, code, actor, '2fa-backup-codes');
    return { backupCodes: await this.dataSource.transaction((m) => this.issueBackupCodes(principal.userId, m)) };
  }

  /**
   * A TOTP code valid now whose step is later than the last accepted one (claimed atomically, so the same
   * code cannot be used twice even by parallel requests), or an unused backup code (consumed atomically).
   */
  async verifyLoginCode(userId: string, code: string): Promise<boolean> {
    const trimmed = code.trim();
    if (/^\d{6}$/.test(trimmed)) {
      const [row] = await queryRows<{ secret_sealed: string | null }>(
        this.dataSource.manager,
        `SELECT secret_sealed FROM user_mfa WHERE user_id = $1`,
        [userId],
      );
      if (!row?.secret_sealed) return false;
      const step = matchingStep(trimmed, this.openSecret(row.secret_sealed, userId, 'secret_sealed'));
      if (step === null) return false;
      const claimed = await queryAffected(
        this.dataSource.manager,
        `UPDATE user_mfa SET last_used_step = $2, updated_at = now() WHERE user_id = $1 AND (last_used_step IS NULL OR last_used_step < $2)`,
        [userId, step],
      );
      return claimed === 1;
    }
    const normalised = normaliseBackupCode(trimmed);
    if (normalised.length !== 8) return false;
    const verifier = await this.dataKeys.verifier(BACKUP_CODES);
    // Keyed verifiers only: codes stored as plain sha256 were voided (migrations/1733400070000).
    const used = await queryAffected(
      this.dataSource.manager,
      `UPDATE mfa_backup_codes SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`,
      [userId, verifier.digest(normalised, userId)],
    );
    return used === 1;
  }

  async status(userId: string): Promise<{ enabled: boolean; enabledAt: string | null; backupCodesLeft: number }> {
    const [row] = await queryRows<{ enabled_at: Date | null; left: number }>(
      this.dataSource.manager,
      `SELECT m.enabled_at, (SELECT count(*)::int FROM mfa_backup_codes b WHERE b.user_id = $1 AND b.used_at IS NULL) AS left
         FROM users u LEFT JOIN user_mfa m ON m.user_id = u.id WHERE u.id = $1`,
      [userId],
    );
    return {
      enabled: Boolean(row?.enabled_at),
      enabledAt: row?.enabled_at?.toISOString() ?? null,
      backupCodesLeft: row?.left ?? 0,
    };
  }
}
