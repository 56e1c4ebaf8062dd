import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig, RateLimitRule } from '../../config/app-config';
import { MemoryRateLimitStore, RateLimitStore, RedisRateLimitStore, WindowState } from './rate-limit.store';
import { RateLimitBucket } from './rate-limit.decorator';

export type Bucket = RateLimitBucket | 'global';

export interface LimitDecision extends WindowState {
  allowed: boolean;
  limit: number;
  /** Seconds until the client may try again (for Retry-After). */
  retryAfterSeconds: number;
}

@Injectable()
export class RateLimitService implements OnApplicationShutdown {
  readonly store: RateLimitStore;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.store = config.redisUrl ? new RedisRateLimitStore(config.redisUrl) : new MemoryRateLimitStore();
  }

  rule(bucket: Bucket): RateLimitRule {
    return this.config.rateLimits[bucket];
  }

  private decide(bucket: Bucket, state: WindowState, countsThisRequest: boolean): LimitDecision {
    const { max } = this.rule(bucket);
    const allowed = countsThisRequest ? state.count <= max : state.count < max;
    return { ...state, allowed, limit: max, retryAfterSeconds: Math.max(1, Math.ceil(state.resetMs / 1000)) };
  }

  /** Count this request and say whether it is within the limit. */
  async consume(bucket: Bucket, subject: string): Promise<LimitDecision> {
    const state = await this.store.hit(`${bucket}:${subject}`, this.rule(bucket).windowMs);
    return this.decide(bucket, state, true);
  }

  /** Say whether another attempt is allowed without counting one (failures-only buckets). */
  async check(bucket: Bucket, subject: string): Promise<LimitDecision> {
    const state = await this.store.peek(`${bucket}:${subject}`);
    return this.decide(bucket, state, false);
  }

  /** A failed attempt (a wrong password; an unknown API key, charged to the caller's IP): counts toward the limit. */
  async recordFailure(bucket: Bucket, subject: string): Promise<void> {
    await this.store.hit(`${bucket}:${subject}`, this.rule(bucket).windowMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
