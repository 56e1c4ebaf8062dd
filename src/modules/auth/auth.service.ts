import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { oneRow, queryAffected, queryRows } from '../../database/query-rows';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { AppException } from '../../common/http/app.exception';
import { MfaVerifier } from '../../common/security/mfa-verifier';
import { Metrics } from '../../common/metrics/metrics';
import { Role, UserPrincipal } from '../../common/security/principal';
import { MailService } from '../notifications/mail.service';
import { PasswordHasher } from '../passwords/password-hasher.service';
import { PasswordPolicy } from '../passwords/password-policy.service';
import { SecurityEventContext, SecurityEventsService } from '../security-events/security-events.service';
import { type PublicUser, type User, type UserCredentials, UsersRepository, publicUser } from '../users/users.module';
import { AccountNotices } from './account-notices.service';
import { LockoutService, Verdict } from './lockout.service';
import { SessionOrigin, SessionsService } from './sessions.service';
import { IssuedAccessToken, TokenService, randomToken, sha256Hex } from './token.service';

const RESET_TOKEN_TTL_MS = 30 * 60_000;

type CredentialRow = UserCredentials;

export interface SignedIn extends IssuedAccessToken {
  user: PublicUser;
  refreshToken: string;
}

export interface RequestOrigin extends SessionOrigin {
  headers: Record<string, string | string[] | undefined>;
}

/** A security event's context for something that happened to a known user, from this request. */
export function originEvent(
  origin: SessionOrigin,
  userId: string,
  teamId: string,
  details?: Record<string, unknown>,
): SecurityEventContext {
  return { ip: origin.ip, userAgent: origin.userAgent, userId, teamId, details };
}

/** Login, registration, re-authentication and password changes: the rules of the contract's Auth section. */
@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly sessions: SessionsService,
    private readonly tokens: TokenService,
    private readonly events: SecurityEventsService,
    private readonly lockout: LockoutService,
    private readonly mail: MailService,
    private readonly users: UsersRepository,
    private readonly notices: AccountNotices,
    @Optional() private readonly mfa?: MfaVerifier,
    @Optional() private readonly metrics?: Metrics,
  ) {}

  private async loadUser(id: string): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) throw AppException.unauthenticated();
    return user;
  }

  private access(
    userId: string,
    teamId: string,
    role: Role,
    sessionId: string,
    authenticatedAt: Date,
  ): IssuedAccessToken {
    return this.tokens.signAccess({
      sub: userId,
      team: teamId,
      role,
      sid: sessionId,
      auth_time: Math.floor(authenticatedAt.getTime() / 1000),
    });
  }

  async register(
    input: { email: string; password: string; firstName: string; lastName: string; teamName: string },
    origin: RequestOrigin,
  ): Promise<SignedIn> {
    this.policy.assertAcceptable(input.password, { email: input.email });
    const passwordHash = await this.hasher.hash(input.password);
    const { userId, teamId } = await this.dataSource.transaction(async (m) => {
      if (await this.users.emailTaken(input.email, m))
        throw AppException.conflict('An account with this email already exists');
      const team = oneRow(
        await queryRows<{ id: string }>(m, `INSERT INTO teams (name) VALUES ($1) RETURNING id`, [input.teamName]),
      );
      const userId = await this.users.insertRegisteredAdmin(
        {
          teamId: team.id,
          email: input.email,
          passwordHash,
          firstName: input.firstName,
          lastName: input.lastName,
        },
        m,
      );
      await queryRows(m, `INSERT INTO known_devices (user_id, fingerprint, label) VALUES ($1, $2, $3)`, [
        userId,
        origin.fingerprint,
        origin.device,
      ]);
      return { userId, teamId: team.id };
    });
    const session = await this.sessions.create(userId, teamId, origin);
    await this.events.record('login_success', 'low', originEvent(origin, userId, teamId, { method: 'register' }));
    const user = await this.loadUser(userId);
    return {
      user: publicUser(user),
      refreshToken: session.refreshToken,
      ...this.access(userId, teamId, 'admin', session.sessionId, session.authenticatedAt),
    };
  }

  private findByEmail(email: string): Promise<CredentialRow | undefined> {
    return this.users.findCredentialsByEmail(email);
  }

  /**
   * Password (and second factor when enrolled) of a known, enabled, unlocked account; throws the contract's error
   * otherwise. The attempt is reserved (LockoutService) before anything is verified.
   */
  private async verifyCredentials(
    email: string,
    password: string,
    otp: string | undefined,
    origin: RequestOrigin,
    prompt: 'login' | 'reauth',
  ): Promise<CredentialRow> {
    const invalid = () => new AppException('INVALID_CREDENTIALS', 'Invalid email or password');
    const user = await this.findByEmail(email);
    if (!user)
      return this.lockout.checkUnknown(email, origin, () => this.hasher.verifyAgainstDummy(password), invalid());
    await this.lockout.check(user, origin, prompt, async () => {
      const passwordOk = await this.hasher.verify(user.password_hash, password);
      if (user.disabled) return Verdict.wrongPassword('disabled', invalid());
      if (!passwordOk) return Verdict.wrongPassword('wrong_password', invalid());
      if (!user.mfa_enabled) return Verdict.right();
      if (!otp)
        return Verdict.undecided(
          new AppException('MFA_REQUIRED', 'Enter the code from your authenticator app (or a backup code)'),
        );
      const ok = this.mfa ? await this.mfa.verifyLoginCode(user.id, otp.trim()) : false;
      return ok
        ? Verdict.right()
        : Verdict.wrongCode('wrong_mfa_code', new AppException('INVALID_MFA_CODE', 'The code is not valid'));
    });
    if (this.hasher.needsRehash(user.password_hash)) {
      await this.users.replacePasswordHash(user.id, await this.hasher.hash(password));
    }
    return user;
  }

  /** Sign-in, counted by outcome for /metrics: success, or the refusal's error code (a fixed set). */
  async login(input: { email: string; password: string; otp?: string }, origin: RequestOrigin): Promise<SignedIn> {
    try {
      const signedIn = await this.signIn(input, origin);
      this.metrics?.signIn('success');
      return signedIn;
    } catch (err) {
      this.metrics?.signIn(err instanceof AppException ? err.code.toLowerCase() : 'error');
      throw err;
    }
  }

  private async signIn(
    input: { email: string; password: string; otp?: string },
    origin: RequestOrigin,
  ): Promise<SignedIn> {
    const user = await this.verifyCredentials(input.email, input.password, input.otp, origin, 'login');
    await this.users.recordLastLogin(user.id);
    const session = await this.sessions.create(user.id, user.team_id, origin);
    const ctx = originEvent(origin, user.id, user.team_id);
    await this.events.record('login_success', 'low', {
      ...ctx,
      details: { sessionId: session.sessionId, device: origin.device },
    });
    await this.noteDevice(user, origin);
    const full = await this.loadUser(user.id);
    return {
      user: publicUser(full),
      refreshToken: session.refreshToken,
      ...this.access(user.id, user.team_id, user.role, session.sessionId, session.authenticatedAt),
    };
  }

  /** A device never seen for this user: an event, and a mail when ENABLE_EMAIL_LOGIN_NOTIFICATIONS is on. */
  private async noteDevice(user: CredentialRow, origin: RequestOrigin): Promise<void> {
    const [row] = await queryRows<{ inserted: boolean }>(
      this.dataSource.manager,
      `INSERT INTO known_devices (user_id, fingerprint, label) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, fingerprint) DO UPDATE SET last_seen_at = now(), label = EXCLUDED.label
       RETURNING (xmax = 0) AS inserted`,
      [user.id, origin.fingerprint, origin.device],
    );
    if (!row?.inserted) return;
    await this.events.record(
      'new_device_login',
      'medium',
      originEvent(origin, user.id, user.team_id, { device: origin.device }),
    );
    if (!this.config.detection.emailLoginNotifications) return;
    const when = new Date().toUTCString();
    this.mail
      .send({
        to: user.email,
        subject: 'New sign-in to your Hearth CRM account',
        text:
          `Your account was just used to sign in from a device we have not seen before.\n\n` +
          `Device: ${origin.device}\nIP address: ${origin.ip}\nTime: ${when}\n\n` +
          `If this was you, there is nothing to do. If not, change your password now and use "Log out all devices" ` +
          `in ${this.config.publicUrl}/console/#/sessions.\n`,
      })
      .catch((err: Error) => this.logger.warn(`new-device mail failed: ${err.message}`));
  }

  async reauth(
    principal: UserPrincipal,
    input: { password: string; otp?: string },
    origin: RequestOrigin,
  ): Promise<IssuedAccessToken> {
    const user = await this.findByEmail(principal.email);
    if (!user || user.id !== principal.userId) throw AppException.unauthenticated();
    await this.verifyCredentials(user.email, input.password, input.otp, origin, 'reauth');
    const at = await this.sessions.markAuthenticated(principal.sessionId);
    return this.access(user.id, user.team_id, user.role, principal.sessionId, at);
  }

  /** Refuses a password that matches the current one or one of the last N. */
  private async assertNotRecent(userId: string, currentHash: string, password: string): Promise<void> {
    const rows = await queryRows<{ password_hash: string }>(
      this.dataSource.manager,
      `SELECT password_hash FROM password_history WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2`,
      [userId, this.config.passwordPolicy.historySize - 1],
    );
    for (const hash of [currentHash, ...rows.map((r) => r.password_hash)]) {
      if (await this.hasher.verify(hash, password)) {
        throw AppException.validation(
          `Choose a password you have not used recently (the last ${this.config.passwordPolicy.historySize} are refused)`,
          [{ field: 'password', errors: ['Password was used recently'] }],
        );
      }
    }
  }

  private async setPassword(userId: string, oldHash: string, password: string): Promise<void> {
    const hash = await this.hasher.hash(password);
    await this.dataSource.transaction(async (m) => {
      await queryRows(m, `INSERT INTO password_history (user_id, password_hash) VALUES ($1, $2)`, [userId, oldHash]);
      await this.users.setPassword(userId, hash, m);
    });
  }

  private async passwordHashOf(userId: string): Promise<{ hash: string; email: string; teamId: string }> {
    const row = await this.users.findPasswordHash(userId);
    if (!row) throw AppException.unauthenticated();
    return { hash: row.password_hash, email: row.email, teamId: row.team_id };
  }

  async changePassword(
    principal: UserPrincipal,
    input: { currentPassword: string; newPassword: string },
    origin: RequestOrigin,
  ): Promise<{ revokedSessions: number }> {
    const current = await this.passwordHashOf(principal.userId);
    const subject = { id: principal.userId, team_id: current.teamId };
    await this.lockout.check(subject, origin, 'change-password', async () =>
      (await this.hasher.verify(current.hash, input.currentPassword))
        ? Verdict.right()
        : Verdict.wrongPassword(
            'wrong_current_password',
            new AppException('INVALID_CREDENTIALS', 'The current password is not correct'),
          ),
    );
    this.policy.assertAcceptable(input.newPassword, { email: current.email, field: 'newPassword' });
    await this.assertNotRecent(principal.userId, current.hash, input.newPassword);
    await this.setPassword(principal.userId, current.hash, input.newPassword);
    const revoked = await this.sessions.revokeAllForUser(principal.userId, 'password_changed', principal.sessionId);
    await this.events.record(
      'password_changed',
      'medium',
      originEvent(origin, principal.userId, principal.teamId, { otherSessionsRevoked: revoked.length }),
    );
    await this.notices.securityChange({
      to: current.email,
      subject: 'Your Hearth CRM password was changed',
      what: 'The password of your account was changed.',
      ip: origin.ip,
      revokedSessions: revoked.length,
    });
    return { revokedSessions: revoked.length };
  }

  /** POST /logout: the session holding this refresh token ends (nothing happens for an unknown or dead token). */
  async logout(refreshToken: string, origin: SessionOrigin): Promise<void> {
    const owner = await this.sessions.revokeByToken(refreshToken, 'logout');
    if (owner)
      await this.events.record(
        'logout',
        'low',
        originEvent(origin, owner.userId, owner.teamId, { sessionId: owner.sessionId }),
      );
  }

  /** POST /logout-all: every session of the caller ends, this one included. */
  async logoutAll(principal: UserPrincipal, origin: SessionOrigin): Promise<number> {
    const revoked = await this.sessions.revokeAllForUser(principal.userId, 'logout_all');
    await this.events.record(
      'logout',
      'low',
      originEvent(origin, principal.userId, principal.teamId, { allSessions: true, sessionsRevoked: revoked.length }),
    );
    return revoked.length;
  }

  /** DELETE /sessions/:id: one of the caller's own live sessions ends; false when it is not one. */
  async revokeOwnSession(principal: UserPrincipal, sessionId: string, origin: SessionOrigin): Promise<boolean> {
    const revoked = await this.sessions.revokeSession(sessionId, 'revoked_by_user', principal.userId);
    if (!revoked.length) return false;
    await this.events.record(
      'session_revoked',
      'low',
      originEvent(origin, principal.userId, principal.teamId, {
        sessionId,
        current: sessionId === principal.sessionId,
      }),
    );
    return true;
  }

  /**
   * Always answers the same way, at the same speed: the lookup, token and mail happen after the response,
   * so neither the status nor the timing says whether the address has an account.
   */
  requestPasswordReset(email: string, origin: RequestOrigin): void {
    setImmediate(() => {
      this.sendResetMail(email, origin).catch((err: Error) =>
        this.logger.warn(`password reset mail failed: ${err.message}`),
      );
    });
  }

  private async sendResetMail(email: string, origin: RequestOrigin): Promise<void> {
    const user = await this.findByEmail(email);
    if (!user || user.disabled) return;
    const token = randomToken();
    await queryRows(
      this.dataSource.manager,
      `INSERT INTO password_reset_tokens (user_id, token_hash, expires_at, requested_ip) VALUES ($1, $2, $3, $4)`,
      [user.id, sha256Hex(token), new Date(Date.now() + RESET_TOKEN_TTL_MS), origin.ip],
    );
    await this.events.record('password_reset_requested', 'low', originEvent(origin, user.id, user.team_id));
    const link = `${this.config.publicUrl}/console/#/reset-password?token=${encodeURIComponent(token)}`;
    await this.mail.send({
      to: user.email,
      subject: 'Reset your Hearth CRM password',
      text:
        `Someone (hopefully you) asked to reset the password of this account.\n\n` +
        `Open this link within 30 minutes to choose a new password (it works once):\n${link}\n\n` +
        `If you did not ask, ignore this mail: your password stays as it is. Request from IP ${origin.ip}.\n`,
    });
  }

  async resetPassword(input: { token: string; password: string }, origin: RequestOrigin): Promise<void> {
    const invalid = () =>
      AppException.validation('This reset link is invalid, expired or already used', [
        { field: 'token', errors: ['invalid or expired'] },
      ]);
    const hash = sha256Hex(input.token);
    const [pending] = await queryRows<{ user_id: string }>(
      this.dataSource.manager,
      `SELECT user_id FROM password_reset_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()`,
      [hash],
    );
    if (!pending) throw invalid();
    const current = await this.passwordHashOf(pending.user_id);
    this.policy.assertAcceptable(input.password, { email: current.email });
    await this.assertNotRecent(pending.user_id, current.hash, input.password);
    // Consumed atomically: of two racing uses, one wins.
    const consumed = await queryAffected(
      this.dataSource.manager,
      `UPDATE password_reset_tokens SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()`,
      [hash],
    );
    if (consumed !== 1) throw invalid();
    await queryRows(
      this.dataSource.manager,
      `UPDATE password_reset_tokens SET used_at = now() WHERE user_id = $1 AND used_at IS NULL`,
      [pending.user_id],
    );
    await this.setPassword(pending.user_id, current.hash, input.password);
    const revoked = await this.sessions.revokeAllForUser(pending.user_id, 'password_reset');
    await this.events.record(
      'password_reset',
      'medium',
      originEvent(origin, pending.user_id, current.teamId, { sessionsRevoked: revoked.length }),
    );
  }

  async me(principal: UserPrincipal) {
    return publicUser(await this.loadUser(principal.userId));
  }
}
