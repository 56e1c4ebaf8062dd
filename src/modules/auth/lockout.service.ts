import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { AppException } from '../../common/http/app.exception';
import { RateLimitService } from '../../common/rate-limit/rate-limit.service';
import { SecurityEventsService } from '../security-events/security-events.service';
import { UsersRepository } from '../users/users.repository';
import type { SessionOrigin } from './sessions.service';

const MULTIPLE_FAILURES_THRESHOLD = 3;

/** The account a credential is checked for. */
export interface LockoutSubject {
  id: string;
  team_id: string;
}

/** One reserved attempt on a known account: `lockedUntil` is set when this reservation reached the limit. */
export interface AccountReservation {
  attempts: number;
  lockedUntil: Date | null;
}

/** One reserved attempt on an unknown email (a keyed counter in the rate-limit storage). */
export interface EmailReservation {
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
 * Usage: `const r = await reserve(user, origin)` → check → `throw await fail(user, r, ...)` or `await succeed(user, r, origin)`.
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

  private ctx(origin: SessionOrigin, subject: LockoutSubject, details?: Record<string, unknown>) {
    return { ip: origin.ip, userAgent: origin.userAgent, userId: subject.id, teamId: subject.team_id, details };
  }

  /** Reserves one attempt before any check; throws 423 ACCOUNT_LOCKED (nothing checked) when the account is locked. */
  async reserve(subject: LockoutSubject, origin: SessionOrigin): Promise<AccountReservation> {
    const lockUntil = new Date(Date.now() + this.config.lockout.durationMs);
    const row = await this.users.reserveAttempt(subject.id, this.max, lockUntil);
    if (row) return { attempts: row.failed_login_attempts, lockedUntil: row.locked_until };
    await this.limits.recordFailure('login', origin.ip);
    await this.events.record('lockout_attempt_while_locked', 'medium', this.ctx(origin, subject));
    throw this.lockedError((await this.users.lockedUntil(subject.id)) ?? lockUntil);
  }

  /** A wrong credential: the reservation stays counted. Returns what to throw: 423 if it reached the limit, else `otherwise`. */
  async fail(
    subject: LockoutSubject,
    reservation: AccountReservation,
    origin: SessionOrigin,
    reason: string,
    otherwise: AppException,
  ): Promise<AppException> {
    const { attempts, lockedUntil } = reservation;
    await this.limits.recordFailure('login', origin.ip);
    await this.events.record('login_failed', 'low', this.ctx(origin, subject, { reason, attempts }));
    if (attempts === MULTIPLE_FAILURES_THRESHOLD)
      await this.events.record('multiple_failed_logins', 'high', this.ctx(origin, subject, { attempts }));
    if (!lockedUntil) return otherwise;
    // Only the one reservation that reached the limit carries the lock: exactly one event per lock.
    await this.events.record(
      'account_locked',
      'high',
      this.ctx(origin, subject, { attempts, lockedUntil: lockedUntil.toISOString() }),
    );
    return this.lockedError(lockedUntil);
  }

  /** A right credential: the count resets. Throws 423 if other attempts locked the account while this one was checked. */
  async succeed(subject: LockoutSubject, reservation: AccountReservation, origin: SessionOrigin): Promise<void> {
    if (await this.users.clearFailedAttempts(subject.id, reservation.lockedUntil)) return;
    await this.events.record('lockout_attempt_while_locked', 'medium', this.ctx(origin, subject));
    const until = await this.users.lockedUntil(subject.id);
    throw this.lockedError(until ?? new Date(Date.now() + this.config.lockout.durationMs));
  }

  /** Neither right nor wrong (a second factor is still needed): the reservation is given back. */
  release(subject: LockoutSubject, reservation: AccountReservation): Promise<void> {
    return this.users.releaseAttempt(subject.id, reservation.lockedUntil);
  }

  private emailKey(email: string): string {
    return `lockout:email:${createHash('sha256').update(email.trim().toLowerCase()).digest('hex')}`;
  }

  /** An unknown email: the same reservation, on a keyed counter; throws 423 once the limit was reached. */
  async reserveUnknown(email: string, origin: SessionOrigin): Promise<EmailReservation> {
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
  async failUnknown(
    email: string,
    reservation: EmailReservation,
    origin: SessionOrigin,
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
