import type { ThrottlerStorage } from '@nestjs/throttler';
import Redis from 'ioredis';
import {
  ATTEMPT_SLOTS_SCRIPT,
  type AttemptSlotsState,
  type SlotFailure,
  type SlotReservation,
  type SlotRules,
  failSlot,
  releaseSlot,
  reserveSlot,
} from './attempt-slots';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

export interface WindowState {
  count: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/** One step on a key's lockout slots (attempt-slots.ts); `now`, `lease` and `lockUntil` in ms of the caller's clock. */
export type SlotStep =
  | { op: 'reserve'; now: number; lease: number }
  | { op: 'fail'; now: number; lease: number; lockUntil: number }
  | { op: 'release'; now: number; lease: number };

interface SlotAnswer {
  reservation: SlotReservation;
  failure: SlotFailure;
}

/**
 * Fixed-window counters behind one key space, and the lockout slots of keys without a row of their own: in
 * process by default, in Redis when instances must share them.
 */
interface WindowCounters {
  hit(key: string, windowMs: number): Promise<WindowState>;
  peek(key: string): Promise<WindowState>;
  slots(key: string, rules: SlotRules, step: SlotStep): Promise<SlotAnswer>;
  close(): Promise<void>;
}

const NO_FAILURE: SlotFailure = { failures: 0, lockedUntil: 0, lockedNow: false };

class MemoryCounters implements WindowCounters {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  /** Lockout slots; `sweepAt` in real time (the state's own times are the caller's clock). */
  private readonly slotStates = new Map<string, { state: AttemptSlotsState; sweepAt: number }>();
  private readonly sweeper = setInterval(() => this.sweep(), 60_000).unref();

  hit(key: string, windowMs: number): Promise<WindowState> {
    const now = Date.now();
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, w);
    }
    w.count += 1;
    return Promise.resolve({ count: w.count, resetMs: w.resetAt - now });
  }

  peek(key: string): Promise<WindowState> {
    const now = Date.now();
    const w = this.windows.get(key);
    if (!w || w.resetAt <= now) return Promise.resolve({ count: 0, resetMs: 0 });
    return Promise.resolve({ count: w.count, resetMs: w.resetAt - now });
  }

  slots(key: string, rules: SlotRules, step: SlotStep): Promise<SlotAnswer> {
    const stored = this.slotStates.get(key)?.state;
    let state: AttemptSlotsState;
    let answer: SlotAnswer;
    if (step.op === 'reserve') {
      const r = reserveSlot(stored, rules, step.now, step.lease);
      state = r.state;
      answer = { reservation: r.result, failure: NO_FAILURE };
    } else if (step.op === 'fail') {
      const f = failSlot(stored, rules, step.now, step.lease, step.lockUntil);
      state = f.state;
      answer = { reservation: { kind: 'busy' }, failure: f.result };
    } else {
      state = releaseSlot(stored, rules, step.now, step.lease);
      answer = { reservation: { kind: 'busy' }, failure: NO_FAILURE };
    }
    this.slotStates.set(key, { state, sweepAt: Date.now() + Math.max(0, state.expiresAt - step.now) });
    return Promise.resolve(answer);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, w] of this.windows) if (w.resetAt <= now) this.windows.delete(key);
    for (const [key, s] of this.slotStates) if (s.sweepAt <= now) this.slotStates.delete(key);
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    return Promise.resolve();
  }
}

// INCR and the first PEXPIRE in one atomic step, so concurrent instances never lose a hit or a TTL.
const HIT_SCRIPT = `
local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {c, ttl}`;

class RedisCounters implements WindowCounters {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly prefix = 'hearth:rl:',
  ) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
    this.redis.defineCommand('rlHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.redis.defineCommand('rlSlots', { numberOfKeys: 1, lua: ATTEMPT_SLOTS_SCRIPT });
  }

  async slots(key: string, rules: SlotRules, step: SlotStep): Promise<SlotAnswer> {
    const lockUntil = step.op === 'fail' ? step.lockUntil : 0;
    const [kind, failures, lockedUntil, lockedNow] = (
      await (
        this.redis as unknown as { rlSlots(k: string, ...args: string[]): Promise<[number, number, number, number]> }
      ).rlSlots(
        this.prefix + key,
        step.op,
        ...[step.now, rules.max, rules.keepMs, step.lease, lockUntil].map((n) => String(Math.round(n))),
      )
    ).map(Number) as [number, number, number, number];
    const reservation: SlotReservation =
      kind === 1 ? { kind: 'reserved' } : kind === 3 ? { kind: 'locked', lockedUntil } : { kind: 'busy' };
    return { reservation, failure: { failures, lockedUntil, lockedNow: lockedNow === 1 } };
  }

  async hit(key: string, windowMs: number): Promise<WindowState> {
    const [count, ttl] = await (
      this.redis as unknown as { rlHit(k: string, w: number): Promise<[number, number]> }
    ).rlHit(this.prefix + key, Math.max(1, Math.round(windowMs)));
    return { count: Number(count), resetMs: Number(ttl) };
  }

  async peek(key: string): Promise<WindowState> {
    const [[, count], [, ttl]] = (await this.redis
      .multi()
      .get(this.prefix + key)
      .pttl(this.prefix + key)
      .exec()) as [[null, string | null], [null, number]];
    return { count: count ? Number(count) : 0, resetMs: Math.max(0, Number(ttl)) };
  }

  async close(): Promise<void> {
    if (this.redis.status === 'end') return;
    await this.redis.quit().catch(() => undefined);
  }
}

/**
 * The one store of every rate-limit counter of the app: @nestjs/throttler's named throttlers (global, login,
 * register, refresh, forgotPassword, health) and the counts RateLimitService adds outside a request's guard
 * (failed logins, API keys that did not authenticate). Fixed windows: the first hit of a key starts its window,
 * every hit in it adds one, and the key is over its limit once the count passes the limit. Also the lockout slots
 * of emails without an account (LockoutService), so they lock after the same count as an account would.
 */
export class RateLimitStorage implements ThrottlerStorage {
  private readonly counters: WindowCounters;

  constructor(redisUrl?: string) {
    this.counters = redisUrl ? new RedisCounters(redisUrl) : new MemoryCounters();
  }

  /** ThrottlerStorage: count one hit of `key` (ttl and blockDuration in ms; the record's times in seconds). */
  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const { count, resetMs } = await this.hit(key, ttl);
    const seconds = Math.max(1, Math.ceil(resetMs / 1000));
    const isBlocked = count > limit;
    return { totalHits: count, timeToExpire: seconds, isBlocked, timeToBlockExpire: isBlocked ? seconds : 0 };
  }

  hit(key: string, windowMs: number): Promise<WindowState> {
    return this.counters.hit(key, windowMs);
  }

  /** The window's state without counting a hit. */
  peek(key: string): Promise<WindowState> {
    return this.counters.peek(key);
  }

  /**
   * The lockout of a key without a row of its own (an unknown email), with an account's rules (attempt-slots.ts):
   * reserve an attempt before checking it (refused while locked, or while `max` are recorded or being checked).
   */
  async reserveAttempt(key: string, rules: SlotRules, now: number, lease: number): Promise<SlotReservation> {
    return (await this.counters.slots(key, rules, { op: 'reserve', now, lease })).reservation;
  }

  /** The reserved attempt was wrong: its lease becomes a failure; the one that reaches `max` locks until `lockUntil`. */
  async failAttempt(
    key: string,
    rules: SlotRules,
    now: number,
    lease: number,
    lockUntil: number,
  ): Promise<SlotFailure> {
    return (await this.counters.slots(key, rules, { op: 'fail', now, lease, lockUntil })).failure;
  }

  /** The reserved attempt was neither right nor wrong (its check failed): the slot is given back. */
  async releaseAttempt(key: string, rules: SlotRules, now: number, lease: number): Promise<void> {
    await this.counters.slots(key, rules, { op: 'release', now, lease });
  }

  close(): Promise<void> {
    return this.counters.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
