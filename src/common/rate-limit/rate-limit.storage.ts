import type { ThrottlerStorage } from '@nestjs/throttler';
import Redis from 'ioredis';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

export interface WindowState {
  count: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/** Fixed-window counters behind one key space: in process by default, in Redis when instances must share them. */
interface WindowCounters {
  hit(key: string, windowMs: number): Promise<WindowState>;
  peek(key: string): Promise<WindowState>;
  close(): Promise<void>;
}

class MemoryCounters implements WindowCounters {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
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

  private sweep(): void {
    const now = Date.now();
    for (const [key, w] of this.windows) if (w.resetAt <= now) this.windows.delete(key);
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
 * every hit in it adds one, and the key is over its limit once the count passes the limit.
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

  close(): Promise<void> {
    return this.counters.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
