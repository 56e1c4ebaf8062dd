import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { AppException } from '../../common/http/app.exception';
import { RateLimitService } from '../../common/rate-limit/rate-limit.service';
import { SecurityEventsService } from '../security-events/security-events.service';
import { UsersRepository } from '../users/users.repository';

/** Where a prompt's answer came from (a request): for the IP counter and the events. */
export interface PromptOrigin {
  ip: string;
  userAgent: string | null;
}

const MULTIPLE_FAILURES_THRESHOLD = 3;

/** The account a credential is checked for. */
export interface LockoutSubject {
  id: string;
  team_id: string;
}

/**
 * What a prompt's check found. `wrong` keeps the reservation (the counted failure; `secondFactor` marks a wrong
 * code, which also writes `mfa_failed`); `right` refunds it (the count resets); `undecided` gives it back
 * (the password was right but a second factor is still missing).
 */
export type Verdict =
  | { kind: 'right' }
  | { kind: 'wrong'; reason: string; error: AppException; secondFactor: boolean }
  | { kind: 'undecided'; error: AppException };

export const Verdict = {
  right: (): Verdict => ({ kind: 'right' }),
  wrongPassword: (reason: string, error: AppException): Verdict => ({
    kind: 'wrong',
    reason,
    error,
    secondFactor: false,
  }),
  wrongCode: (reason: string, error: AppException): Verdict => ({ kind: 'wrong', reason, error, secondFactor: true }),
  undecided: (error: AppException): Verdict => ({ kind: 'undecided', error }),
};

/** One reserved attempt on a known account: `lockedUntil` is set when this reservation reached the limit. */
interface AccountReservation {
  attempts: number;
  lockedUntil: Date | null;
}

/** One reserved attempt on an unknown email (a keyed counter in the rate-limit storage). */
interface EmailReservation {
  attempts: number;
  resetMs: number;
}

/**
 * The lockout policy (contract, Auth): MAX_LOGIN_ATTEMPTS consecutive failures lock for LOCKOUT_DURATION_MINUTES.
 * An attempt is reserved BEFORE the password or code is checked, so however many requests race, at most
 * MAX_LOGIN_ATTEMPTS credentials are checked before the lock; the rest are 423 without checking anything.
 * A wrong credential keeps its reservation (it is the counted failure), a right one is refunded (the count resets),
 * an attempt that was neither (MFA_REQUIRED) is given back. Unknown emails get the same answers after the same
 * count through a keyed counter, so 423 says nothing about whether an account exists.
 *
 * Every prompt for a password or second factor (login, reauth, change-password, the /2fa routes, API key
 * creation) goes through `check` (or `checkUnknown` for an email without an account): the only sequence of
 * reserve → verify → fail / succeed / release, so no prompt can verify before reserving or forget to count.
 */
@Injectable()
export class LockoutService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UsersRepository,
    private readonly limits: RateLimitService,
    private readonly events: SecurityEventsService,
  ) {}

  private get max(): number {
    return this.config.lockout.maxAttempts;
  }

  lockedError(until: Date): AppException {
    const minutes = Math.max(1, Math.ceil((until.getTime() - Date.now()) / 60_000));
    return new AppException('ACCOUNT_LOCKED', `Account locked for ${minutes} minute${minutes === 1 ? '' : 's'}`);
  }

  private ctx(origin: PromptOrigin, subject: LockoutSubject, details?: Record<string, unknown>) {
    return { ip: origin.ip, userAgent: origin.userAgent, userId: subject.id, teamId: subject.team_id, details };
  }

  /**
   * Checks one answer to a prompt for `subject`: an attempt is reserved first (423 ACCOUNT_LOCKED, nothing verified,
   * while the account is locked or MAX_LOGIN_ATTEMPTS answers are already being checked), then `verify` runs, then
   * the reservation is kept (wrong: throws its error, or 423 when it reached the limit), refunded (right), or given
   * back (undecided: throws its error). `prompt` names the route in the failure events. If `verify` itself throws
   * (an outage, not an answer) the reservation is given back and the error passes through.
   */
  async check(
    subject: LockoutSubject,
    origin: PromptOrigin,
    prompt: string,
    verify: () => Verdict | Promise<Verdict>,
  ): Promise<void> {
    const reservation = await this.reserve(subject, origin, prompt);
    let verdict: Verdict;
    try {
      verdict = await verify();
    } catch (err) {
      await this.release(subject, reservation);
      throw err;
    }
    if (verdict.kind === 'right') return this.succeed(subject, reservation, origin, prompt);
    if (verdict.kind === 'undecided') {
      await this.release(subject, reservation);
      throw verdict.error;
    }
    throw await this.fail(subject, reservation, origin, prompt, verdict);
  }

  /** An email with no account: the same reservation on a keyed counter, a dummy check, and always a failure. */
  async checkUnknown(
    email: string,
    origin: PromptOrigin,
    dummyVerify: () => Promise<unknown>,
    error: AppException,
  ): Promise<never> {
    const reservation = await this.reserveUnknown(email, origin);
    await dummyVerify();
    throw await this.failUnknown(email, reservation, origin, error);
  }

  /** Reserves one attempt before any check; throws 423 ACCOUNT_LOCKED (nothing checked) when the account is locked. */
  private async reserve(subject: LockoutSubject, origin: PromptOrigin, prompt: string): Promise<AccountReservation> {
    const lockUntil = new Date(Date.now() + this.config.lockout.durationMs);
    const row = await this.users.reserveAttempt(subject.id, this.max, lockUntil);
    if (row) return { attempts: row.failed_login_attempts, lockedUntil: row.locked_until };
    await this.limits.recordFailure('login', origin.ip);
    await this.events.record('lockout_attempt_while_locked', 'medium', this.ctx(origin, subject, { prompt }));
    throw this.lockedError((await this.users.lockedUntil(subject.id)) ?? lockUntil);
  }

  /** A wrong credential: the reservation stays counted. Returns what to throw: 423 if it reached the limit, else its error. */
  private async fail(
    subject: LockoutSubject,
    reservation: AccountReservation,
    origin: PromptOrigin,
    prompt: string,
    verdict: Extract<Verdict, { kind: 'wrong' }>,
  ): Promise<AppException> {
    const { attempts, lockedUntil } = reservation;
    const { reason } = verdict;
    await this.limits.recordFailure('login', origin.ip);
    // One login_failed per counted failure (the stored count equals these events), whatever the prompt.
    await this.events.record('login_failed', 'low', this.ctx(origin, subject, { reason, prompt, attempts }));
    if (verdict.secondFactor)
      await this.events.record('mfa_failed', 'medium', this.ctx(origin, subject, { reason, prompt, attempts }));
    if (attempts === MULTIPLE_FAILURES_THRESHOLD)
      await this.events.record('multiple_failed_logins', 'high', this.ctx(origin, subject, { attempts }));
    if (!lockedUntil) return verdict.error;
    // Only the one reservation that reached the limit carries the lock: exactly one event per lock.
    await this.events.record(
      'account_locked',
      'high',
      this.ctx(origin, subject, { attempts, prompt, lockedUntil: lockedUntil.toISOString() }),
    );
    return this.lockedError(lockedUntil);
  }

  /** A right credential: the count resets. Throws 423 if other attempts locked the account while this one was checked. */
  private async succeed(
    subject: LockoutSubject,
    reservation: AccountReservation,
    origin: PromptOrigin,
    prompt: string,
  ): Promise<void> {
    if (await this.users.clearFailedAttempts(subject.id, reservation.lockedUntil)) return;
    await this.events.record('lockout_attempt_while_locked', 'medium', this.ctx(origin, subject, { prompt }));
    const until = await this.users.lockedUntil(subject.id);
    throw this.lockedError(until ?? new Date(Date.now() + this.config.lockout.durationMs));
  }

  /** Neither right nor wrong (a second factor is still needed): the reservation is given back. */
  private release(subject: LockoutSubject, reservation: AccountReservation): Promise<void> {
    return this.users.releaseAttempt(subject.id, reservation.lockedUntil);
  }

  private emailKey(email: string): string {
    return `lockout:email:${createHash('sha256').update(email.trim().toLowerCase()).digest('hex')}`;
  }

  /** An unknown email: the same reservation, on a keyed counter; throws 423 once the limit was reached. */
  private async reserveUnknown(email: string, origin: PromptOrigin): Promise<EmailReservation> {
    const state = await this.limits.storage.hit(this.emailKey(email), this.config.lockout.durationMs);
    if (state.count <= this.max) return { attempts: state.count, resetMs: state.resetMs };
    await this.limits.recordFailure('login', origin.ip);
    await this.events.record('lockout_attempt_while_locked', 'medium', {
      ip: origin.ip,
      userAgent: origin.userAgent,
      details: { reason: 'unknown_email', email },
    });
    throw this.lockedError(new Date(Date.now() + state.resetMs));
  }

  /** An unknown email's attempt failed (always): 423 if it reached the limit, else `otherwise`. */
  private async failUnknown(
    email: string,
    reservation: EmailReservation,
    origin: PromptOrigin,
    otherwise: AppException,
  ): Promise<AppException> {
    await this.limits.recordFailure('login', origin.ip);
    await this.events.record('login_failed', 'low', {
      ip: origin.ip,
      userAgent: origin.userAgent,
      details: { reason: 'unknown_email', email },
    });
    if (reservation.attempts < this.max) return otherwise;
    return this.lockedError(new Date(Date.now() + reservation.resetMs));
  }
}
