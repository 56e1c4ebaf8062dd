import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectThrottlerStorage } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig, RateLimitRule } from '../../config/app-config';
import { AppException } from '../http/app.exception';
import { clientIp } from '../security/request-context';
import { SecurityEventSink } from '../security/security-event-sink';
import { Metrics } from '../metrics/metrics';
import { RateLimitStorage, WindowState } from './rate-limit.storage';
import { RateLimitBucket } from './rate-limit.decorator';

export type Bucket = RateLimitBucket | 'global';

/** The routes' own limits that answer AUTH_RATE_LIMIT (health and the global limit answer RATE_LIMIT). */
const AUTH_BUCKETS = new Set<Bucket>(['login', 'register', 'refresh', 'forgotPassword']);

export interface LimitDecision extends WindowState {
  allowed: boolean;
  limit: number;
  /** Seconds until the client may try again (for Retry-After). */
  retryAfterSeconds: number;
}

const CHARGED_GLOBAL = Symbol('rate-limit:charged-global');

/** Marks a request whose global budget a guard has dealt with (counted, checked, or refused). */
export function markChargedGlobal(request: FastifyRequest): void {
  (request as unknown as Record<symbol, boolean>)[CHARGED_GLOBAL] = true;
}

export function chargedGlobal(request: FastifyRequest): boolean {
  return (request as unknown as Record<symbol, boolean>)[CHARGED_GLOBAL] === true;
}

/** The storage key of a bucket's counter for one subject: the same for the throttler guards and recordFailure. */
export const limitKey = (bucket: Bucket, subject: string): string => `${bucket}:${subject}`;

/**
 * Rate-limit counters outside the throttler guards, on the same storage (ThrottlerModule's, see
 * rate-limit.module.ts): failures-only buckets (a wrong password counts toward the login limit) and credentials
 * that did not authenticate (charged to the caller's IP). Also the one place that turns a decision into the
 * contract's 429 and its `rate_limited` event.
 */
@Injectable()
export class RateLimitService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectThrottlerStorage() readonly storage: RateLimitStorage,
    private readonly events: SecurityEventSink,
    @Optional() private readonly metrics?: Metrics,
  ) {}

  rule(bucket: Bucket): RateLimitRule {
    return this.config.rateLimits[bucket];
  }

  decide(bucket: Bucket, state: WindowState, countsThisRequest: boolean): LimitDecision {
    const { max } = this.rule(bucket);
    const allowed = countsThisRequest ? state.count <= max : state.count < max;
    return { ...state, allowed, limit: max, retryAfterSeconds: Math.max(1, Math.ceil(state.resetMs / 1000)) };
  }

  /** Count this request and say whether it is within the limit. */
  async consume(bucket: Bucket, subject: string): Promise<LimitDecision> {
    const state = await this.storage.hit(limitKey(bucket, subject), this.rule(bucket).windowMs);
    return this.decide(bucket, state, true);
  }

  /** Say whether another attempt is allowed without counting one (failures-only buckets). */
  async check(bucket: Bucket, subject: string): Promise<LimitDecision> {
    const state = await this.storage.peek(limitKey(bucket, subject));
    return this.decide(bucket, state, false);
  }

  /** A failed attempt (a wrong password; an API key that did not authenticate, charged to the caller's IP). */
  async recordFailure(bucket: Bucket, subject: string): Promise<void> {
    await this.storage.hit(limitKey(bucket, subject), this.rule(bucket).windowMs);
  }

  /** bucket:subject → when its window ends: one event per window and subject, so a flood does not flood the log. */
  private readonly reported = new Map<string, number>();

  private shouldReport(bucket: Bucket, subject: string, decision: LimitDecision): boolean {
    const key = limitKey(bucket, subject);
    const now = Date.now();
    if ((this.reported.get(key) ?? 0) > now) return false;
    if (this.reported.size > 10_000) this.reported.clear();
    this.reported.set(key, now + decision.resetMs);
    return true;
  }

  /** 429 with Retry-After and RATE_LIMIT / AUTH_RATE_LIMIT; a `rate_limited` event once per window and subject. */
  async reject(request: FastifyRequest, bucket: Bucket, subject: string, decision: LimitDecision): Promise<never> {
    this.metrics?.rateLimited(bucket);
    const ip = clientIp(request);
    if (this.shouldReport(bucket, subject, decision)) {
      await this.events.record('rate_limited', 'medium', {
        ip,
        userAgent: request.headers['user-agent'] ?? null,
        apiKeyId: request.principal?.kind === 'apiKey' ? request.principal.apiKeyId : undefined,
        teamId: request.principal?.teamId,
        details: {
          bucket,
          method: request.method,
          path: request.routeOptions?.url ?? null,
          limit: decision.limit,
        },
      });
    }
    const isAuth = AUTH_BUCKETS.has(bucket);
    throw new AppException(
      isAuth ? 'AUTH_RATE_LIMIT' : 'RATE_LIMIT',
      isAuth
        ? `Too many attempts; try again in ${decision.retryAfterSeconds} seconds`
        : `Too many requests; try again in ${decision.retryAfterSeconds} seconds`,
      undefined,
      { 'Retry-After': String(decision.retryAfterSeconds) },
    );
  }
}
