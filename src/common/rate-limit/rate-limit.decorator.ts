import { SetMetadata } from '@nestjs/common';
import { type AppConfig } from '../../config/app-config';

export type RateLimitBucket = Exclude<keyof AppConfig['rateLimits'], 'global'>;

export interface RateLimitSpec {
  bucket: RateLimitBucket;
  /** Count only failed attempts (login): the route reports failures through RateLimitService.recordFailure. */
  failuresOnly?: boolean;
}

export const RATE_LIMIT = 'rate-limit:route';

/**
 * A route's own limit from config (RATE_LIMIT_<BUCKET>_MAX / _WINDOW), on top of the global one: the named
 * throttler of that name (see rate-limit.guard.ts) applies to the routes that carry it, per client IP.
 */
export const RateLimit = (
  bucket: RateLimitBucket,
  options: { failuresOnly?: boolean } = {},
): MethodDecorator & ClassDecorator => SetMetadata(RATE_LIMIT, { bucket, ...options } satisfies RateLimitSpec);
