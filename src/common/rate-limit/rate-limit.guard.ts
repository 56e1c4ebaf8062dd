import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
} from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AppConfig } from '../../config/app-config';
import { clientIp } from '../security/request-context';
import { RATE_LIMIT, RateLimitSpec } from './rate-limit.decorator';
import { Bucket, LimitDecision, RateLimitService, limitKey, markChargedGlobal } from './rate-limit.service';
import { RateLimitStorage } from './rate-limit.storage';

/** The named throttlers, in the order they are checked: the global limit first, then the routes' own. */
export const THROTTLERS: readonly Bucket[] = ['global', 'login', 'register', 'refresh', 'forgotPassword', 'health'];

/** ThrottlerModule's options: one named throttler per configured limit, all on the one RateLimitStorage. */
export function throttlerOptions(config: AppConfig, storage: RateLimitStorage): ThrottlerModuleOptions {
  return {
    storage,
    throttlers: THROTTLERS.map((name) => ({
      name,
      limit: config.rateLimits[name].max,
      ttl: config.rateLimits[name].windowMs,
    })),
  };
}

/**
 * The route as routed: Fastify's matched route pattern (`/v1/clients/:id`), whatever the request target looked
 * like (`/%761/clients`, `http://host/v1/clients`). Undefined only if no route matched, which never reaches a guard.
 */
export function routedPath(request: FastifyRequest): string | undefined {
  return request.routeOptions?.url;
}

/** The global limit covers every /v1 route; decided on the matched route, never on the raw URL. */
function underGlobalLimit(request: FastifyRequest): boolean {
  const route = routedPath(request);
  // Fail closed: a routed request always has its pattern, but if it did not, it is counted.
  return route === undefined || route === '/v1' || route.startsWith('/v1/');
}

/** The request asks to be authenticated by an API key: AuthenticationGuard's own test for the key strategy. */
function presentsApiKey(request: FastifyRequest): boolean {
  return request.headers['x-api-key'] !== undefined;
}

/**
 * @nestjs/throttler's guard with the app's named throttlers, keyed per client and never per spelling of a path:
 * whether a limit applies comes from the matched route (its pattern, and the handler's @RateLimit metadata),
 * and a counter's key is `<throttler>:<client>`, so `/v1/clients`, `/%761/clients`, `/v1/clients/` and an
 * absolute-form target draw from one budget.
 *
 * Runs BEFORE authentication:
 * - global, per client IP, for every /v1 route; for a request that presents an API key the IP's budget is only
 *   checked here (not counted): ApiKeyRateLimitGuard counts it after authentication, on the key once the key
 *   authenticated, on the IP otherwise;
 * - the route's own limit (@RateLimit), per client IP; a failures-only one (login) is only checked here, the
 *   failures are counted by RateLimitService.recordFailure.
 * 429 carries Retry-After and the contract's RATE_LIMIT / AUTH_RATE_LIMIT code (RateLimitService.reject).
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() protected readonly storage: RateLimitStorage,
    reflector: Reflector,
    protected readonly limits: RateLimitService,
  ) {
    super(options, storage, reflector);
  }

  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    // ThrottlerGuard orders throttlers by ttl; the contract's order is global first, then the route's own.
    this.throttlers.sort((a, b) => THROTTLERS.indexOf(a.name as Bucket) - THROTTLERS.indexOf(b.name as Bucket));
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    return Promise.resolve(clientIp(request as unknown as FastifyRequest));
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return limitKey(throttlerName as Bucket, tracker);
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const { context, throttler } = props;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const bucket = throttler.name as Bucket;
    if (bucket === 'global') {
      if (!underGlobalLimit(request)) return true;
      const subject = `ip:${await props.getTracker(request as never, context)}`;
      return presentsApiKey(request) ? this.enforce(props, subject, 'check') : this.enforce(props, subject, 'count');
    }
    const spec = this.reflector.getAllAndOverride<RateLimitSpec | undefined>(RATE_LIMIT, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (spec?.bucket !== bucket) return true;
    const subject = await props.getTracker(request as never, context);
    return this.enforce(props, subject, spec.failuresOnly ? 'check' : 'count');
  }

  /** Count this request (`count`) or only look at the window (`check`); 429 when over the limit. */
  protected async enforce(props: ThrottlerRequest, subject: string, mode: 'count' | 'check'): Promise<true> {
    const { context, throttler, limit, ttl } = props;
    const bucket = throttler.name as Bucket;
    const key = props.generateKey(context, subject, bucket);
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (bucket === 'global') markChargedGlobal(request);
    let decision: LimitDecision;
    if (mode === 'count') {
      const record = await this.storage.increment(key, ttl, limit);
      decision = {
        count: record.totalHits,
        resetMs: record.timeToExpire * 1000,
        allowed: !record.isBlocked,
        limit,
        retryAfterSeconds: Math.max(1, record.timeToBlockExpire || record.timeToExpire),
      };
    } else {
      const state = await this.storage.peek(key);
      decision = {
        ...state,
        allowed: state.count < limit,
        limit,
        retryAfterSeconds: Math.max(1, Math.ceil(state.resetMs / 1000)),
      };
    }
    if (bucket === 'global' && mode === 'count') {
      const reply = context.switchToHttp().getResponse<FastifyReply>();
      void reply.header('X-RateLimit-Limit', String(limit));
      void reply.header('X-RateLimit-Remaining', String(Math.max(0, limit - decision.count)));
    }
    if (!decision.allowed) await this.limits.reject(request, bucket, subject, decision);
    return true;
  }
}

/**
 * Runs AFTER AuthenticationGuard, for a /v1 request that presented an API key: a key that authenticated is
 * charged to its own budget (per key id); a key shown on a public route is charged to the caller's IP. A key that
 * did not authenticate never gets here: AuthenticationGuard / ApiKeyStrategy charged the IP and answered 401/403.
 * So a wrong secret never spends the budget of the key it names.
 */
@Injectable()
export class ApiKeyRateLimitGuard extends RateLimitGuard {
  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const { context, throttler } = props;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (throttler.name !== 'global' || !underGlobalLimit(request) || !presentsApiKey(request)) return true;
    const principal = request.principal;
    const subject =
      principal?.kind === 'apiKey'
        ? `key:${principal.apiKeyId}`
        : `ip:${await props.getTracker(request as never, context)}`;
    return this.enforce(props, subject, 'count');
  }
}
