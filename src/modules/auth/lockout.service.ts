import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { AppException } from '../../common/http/app.exception';
import { type SlotRules } from '../../common/rate-limit/attempt-slots';
import { RateLimitService } from '../../common/rate-limit/rate-limit.service';
import { Clock } from '../../common/time/clock';
import { SecurityEventsService } from '../security-events/security-events.service';
import { UsersRepository } from '../users/users.repository';
import { SlotWaiters } from './slot-waiters';

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
 * What a prompt's check found. `wrong` turns the reservation into a recorded failure (`secondFactor` marks a
 * wrong code, which also writes `mfa_failed`); `right` gives it back and the count resets; `undecided` gives it
 * back (the password was right but a second factor is still missing).
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

/** What a reservation found: a slot (held by its lease until the check is settled), or the lock. */
type Claim = { lease: Date } | { lockedUntil: Date };

/** One key's lockout: an account's row, or an unknown email's record in the rate-limit storage. */
interface AttemptSlots {
  /** Names the key for the in-process wake-ups (never stored). */
  wakeKey: string;
  reserve(now: Date, lease: Date): Promise<{ kind: 'reserved' } | { kind: 'busy' } | { kind: 'locked'; until: Date }>;
}

/**
 * How long a reservation holds its slot at most: far longer than any check (an argon2 verify is ~30 ms; a
 * second factor adds a query or two), short enough that a process that died mid-check frees its slot soon.
 */
const ATTEMPT_LEASE_MS = 30_000;
/** The first pause before asking again for a slot held by an attempt in flight, and the longest. */
const FIRST_RETRY_MS = 10;
const LONGEST_RETRY_MS = 200;
const BUSY_RETRY_AFTER_SECONDS = 1;
/** However steadily the checks ahead keep finishing, no request waits longer than this × LOCKOUT_BUSY_WAIT_MS. */
const BUSY_WAIT_CAP_FACTOR = 3;

/**
 * The lockout policy (contract, Auth): MAX_LOGIN_ATTEMPTS consecutive failures lock for LOCKOUT_DURATION_MINUTES.
 * An attempt is reserved BEFORE the password or code is checked, so however many requests race, at most
 * MAX_LOGIN_ATTEMPTS credentials are checked before the lock. A reservation is a lease on one of the
 * MAX_LOGIN_ATTEMPTS slots: a wrong credential turns it into a recorded failure (the one that reaches the limit
 * locks), a right one gives it back and clears the count, an attempt that was neither (MFA_REQUIRED) just gives
 * it back. Only recorded failures lock: a request that finds every slot held by attempts still being checked
 * waits for one (while checks ahead keep finishing, up to LOCKOUT_BUSY_WAIT_MS without one; woken as soon as
 * a slot may be free here, else asking again with a short backoff), then answers 429 AUTH_RATE_LIMIT with
 * Retry-After; 423 ACCOUNT_LOCKED only once the account is
 * locked. Unknown emails get the same answers after the same count, and the same waits, through the same rules
 * on a record in the rate-limit storage, so neither 423 nor 429 says whether an account exists.
 *
 * Every prompt for a password or second factor (login, reauth, change-password, the /2fa routes, API key
 * creation) goes through `check` (or `checkUnknown` for an email without an account): the only sequence of
 * reserve → verify → fail / succeed / release, so no prompt can verify before reserving or forget to count.
 * Times of the rules (the lock, the leases) come from the Clock; the wait for a slot is real time.
 */
@Injectable()
export class LockoutService {
  private readonly waiters = new SlotWaiters();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UsersRepository,
    private readonly limits: RateLimitService,
    private readonly events: SecurityEventsService,
    private readonly clock: Clock,
  ) {}

  private get max(): number {
    return this.config.lockout.maxAttempts;
  }

  lockedError(until: Date): AppException {
    const minutes = Math.max(1, Math.ceil((until.getTime() - this.clock.nowMs()) / 60_000));
    return new AppException('ACCOUNT_LOCKED', `Account locked for ${minutes} minute${minutes === 1 ? '' : 's'}`);
  }

  /** Every slot is held by an attempt still being checked, for longer than LOCKOUT_BUSY_WAIT_MS: not a lock. */
  private busyError(): AppException {
    return new AppException(
      'AUTH_RATE_LIMIT',
      `Too many attempts at once; try again in ${BUSY_RETRY_AFTER_SECONDS} second`,
      undefined,
      { 'Retry-After': String(BUSY_RETRY_AFTER_SECONDS) },
    );
  }

  private ctx(origin: PromptOrigin, subject: LockoutSubject, details?: Record<string, unknown>) {
    return { ip: origin.ip, userAgent: origin.userAgent, userId: subject.id, teamId: subject.team_id, details };
  }

  /**
   * Checks one answer to a prompt for `subject`: an attempt is reserved first (423 ACCOUNT_LOCKED, nothing
   * verified, while the account is locked; a wait, then 429, while every slot is held by attempts in flight),
   * then `verify` runs, then the reservation becomes a failure (wrong: throws its error, or 423 when it reached the
   * limit), is refunded (right), or given back (undecided: throws its error). `prompt` names the route in the
   * failure events. If `verify` itself throws (an outage, not an answer) the reservation is given back and the
   * error passes through.
   */
  async check(
    subject: LockoutSubject,
    origin: PromptOrigin,
    prompt: string,
    verify: () => Verdict | Promise<Verdict>,
  ): Promise<void> {
    const claim = await this.claim(this.accountSlots(subject));
    if ('lockedUntil' in claim) {
      await this.limits.recordFailure('login', origin.ip);
      await this.events.record('lockout_attempt_while_locked', 'medium', this.ctx(origin, subject, { prompt }));
      throw this.lockedError(claim.lockedUntil);
    }
    const { lease } = claim;
    let verdict: Verdict;
    try {
      verdict = await verify();
    } catch (err) {
      await this.release(subject, lease);
      throw err;
    }
    if (verdict.kind === 'right') return this.succeed(subject, lease, origin, prompt);
    if (verdict.kind === 'undecided') {
      await this.release(subject, lease);
      throw verdict.error;
    }
    throw await this.fail(subject, lease, origin, prompt, verdict);
  }

  /** An email with no account: the same reservation on a keyed record, a dummy check, and always a failure. */
  async checkUnknown(
    email: string,
    origin: PromptOrigin,
    dummyVerify: () => Promise<unknown>,
    error: AppException,
  ): Promise<never> {
    const key = this.emailKey(email);
    const claim = await this.claim(this.emailSlots(key));
    if ('lockedUntil' in claim) {
      await this.limits.recordFailure('login', origin.ip);
      await this.events.record('lockout_attempt_while_locked', 'medium', {
        ip: origin.ip,
        userAgent: origin.userAgent,
        details: { reason: 'unknown_email', email },
      });
      throw this.lockedError(claim.lockedUntil);
    }
    try {
      await dummyVerify();
    } catch (err) {
      await this.limits.storage.releaseAttempt(key, this.emailRules, this.clock.nowMs(), claim.lease.getTime());
      this.waiters.settled(key, 1);
      throw err;
    }
    throw await this.failUnknown(email, key, claim.lease, origin, error);
  }

  /**
   * Reserves a slot, waiting while every one is held by an attempt in flight (woken when one may be free here,
   * else asking again after a short, growing, jittered pause; a waiter that got a slot or found the lock passes
   * the news on). It gives up (429) after LOCKOUT_BUSY_WAIT_MS without a check on this key settling here, and
   * after BUSY_WAIT_CAP_FACTOR times that in all. Real time bounds the wait (a frozen test clock must not make
   * it endless).
   */
  private async claim(slots: AttemptSlots): Promise<Claim> {
    const key = slots.wakeKey;
    const patience = this.config.lockout.busyWaitMs;
    const startedAt = Date.now();
    const hardStop = startedAt + BUSY_WAIT_CAP_FACTOR * patience;
    let waiting = false;
    try {
      for (let round = 0; ; round++) {
        const now = this.clock.now();
        const lease = new Date(now.getTime() + ATTEMPT_LEASE_MS);
        const found = await slots.reserve(now, lease);
        if (found.kind === 'reserved') {
          if (waiting) this.waiters.wake(key, 1);
          return { lease };
        }
        if (found.kind === 'locked') {
          if (waiting) this.waiters.wake(key);
          return { lockedUntil: found.until };
        }
        if (!waiting) this.waiters.join(key);
        waiting = true;
        const patientFrom = Math.max(startedAt, this.waiters.progressAt(key));
        const left = Math.min(patientFrom + patience, hardStop) - Date.now();
        if (left <= 0) throw this.busyError();
        const pause = Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** round) * (0.5 + Math.random() / 2);
        await this.waiters.wait(key, Math.min(left, pause));
      }
    } finally {
      if (waiting) this.waiters.leave(key);
    }
  }

  private accountWakeKey(subject: LockoutSubject): string {
    return `user:${subject.id}`;
  }

  private accountSlots(subject: LockoutSubject): AttemptSlots {
    return {
      wakeKey: this.accountWakeKey(subject),
      reserve: async (now, lease) => {
        const { reserved, lockedUntil } = await this.users.reserveAttempt(subject.id, this.max, now, lease);
        if (reserved) return { kind: 'reserved' };
        // Refused: locked, or every slot held by an attempt in flight (failures alone fill them only with a lock).
        return lockedUntil ? { kind: 'locked', until: lockedUntil } : { kind: 'busy' };
      },
    };
  }

  private emailSlots(key: string): AttemptSlots {
    return {
      wakeKey: key,
      reserve: async (now, lease) => {
        const found = await this.limits.storage.reserveAttempt(key, this.emailRules, now.getTime(), lease.getTime());
        return found.kind === 'locked' ? { kind: 'locked', until: new Date(found.lockedUntil) } : found;
      },
    };
  }

  /** A wrong credential: the reservation becomes a recorded failure. Returns what to throw: 423 if it locked, else its error. */
  private async fail(
    subject: LockoutSubject,
    lease: Date,
    origin: PromptOrigin,
    prompt: string,
    verdict: Extract<Verdict, { kind: 'wrong' }>,
  ): Promise<AppException> {
    const now = this.clock.now();
    const lockUntil = new Date(now.getTime() + this.config.lockout.durationMs);
    const failure = await this.users.recordFailedAttempt(subject.id, this.max, lease, now, lockUntil);
    const { failedLoginAttempts: attempts, lockedUntil, lockedNow } = failure;
    // A failure frees no slot (its lease became the failure); a lock is news for every waiter.
    this.waiters.settled(this.accountWakeKey(subject), lockedUntil ? Infinity : 0);
    const { reason } = verdict;
    await this.limits.recordFailure('login', origin.ip);
    // One login_failed per counted failure (the stored count equals these events), whatever the prompt.
    await this.events.record('login_failed', 'low', this.ctx(origin, subject, { reason, prompt, attempts }));
    if (verdict.secondFactor)
      await this.events.record('mfa_failed', 'medium', this.ctx(origin, subject, { reason, prompt, attempts }));
    if (attempts === MULTIPLE_FAILURES_THRESHOLD)
      await this.events.record('multiple_failed_logins', 'high', this.ctx(origin, subject, { attempts }));
    if (!lockedUntil) return verdict.error;
    // Only the failure that reached the limit carries the lock: exactly one event per lock.
    if (lockedNow)
      await this.events.record(
        'account_locked',
        'high',
        this.ctx(origin, subject, { attempts, prompt, lockedUntil: lockedUntil.toISOString() }),
      );
    return this.lockedError(lockedUntil);
  }

  /** A right credential: the count resets. Throws 423 if the account is locked now (this check outlived its lease). */
  private async succeed(subject: LockoutSubject, lease: Date, origin: PromptOrigin, prompt: string): Promise<void> {
    const lockedUntil = await this.users.clearFailedAttempts(subject.id, lease, this.clock.now());
    this.waiters.settled(this.accountWakeKey(subject), lockedUntil ? Infinity : 1);
    if (!lockedUntil) return;
    await this.events.record('lockout_attempt_while_locked', 'medium', this.ctx(origin, subject, { prompt }));
    throw this.lockedError(lockedUntil);
  }

  /** Neither right nor wrong (a second factor is still needed, or the check itself failed): the slot is given back. */
  private async release(subject: LockoutSubject, lease: Date): Promise<void> {
    await this.users.releaseAttempt(subject.id, lease, this.clock.now());
    this.waiters.settled(this.accountWakeKey(subject), 1);
  }

  private emailKey(email: string): string {
    return `lockout:email:${createHash('sha256').update(email.trim().toLowerCase()).digest('hex')}`;
  }

  /** An unknown email's failures are forgotten after LOCKOUT_DURATION of quiet (an account's are kept). */
  private get emailRules(): SlotRules {
    return { max: this.max, keepMs: this.config.lockout.durationMs };
  }

  /** An unknown email's attempt failed (always): 423 if it reached the limit, else `otherwise`. */
  private async failUnknown(
    email: string,
    key: string,
    lease: Date,
    origin: PromptOrigin,
    otherwise: AppException,
  ): Promise<AppException> {
    const now = this.clock.nowMs();
    const lockUntil = now + this.config.lockout.durationMs;
    const { lockedUntil } = await this.limits.storage.failAttempt(
      key,
      this.emailRules,
      now,
      lease.getTime(),
      lockUntil,
    );
    this.waiters.settled(key, lockedUntil ? Infinity : 0);
    await this.limits.recordFailure('login', origin.ip);
    await this.events.record('login_failed', 'low', {
      ip: origin.ip,
      userAgent: origin.userAgent,
      details: { reason: 'unknown_email', email },
    });
    if (!lockedUntil) return otherwise;
    return this.lockedError(new Date(lockedUntil));
  }
}
