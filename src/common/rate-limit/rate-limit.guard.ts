import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppException } from '../http/app.exception';
import { clientIp } from '../security/request-context';
import { SecurityEventsService } from '../../modules/security-events/security-events.service';
import { RATE_LIMIT, RateLimitSpec } from './rate-limit.decorator';
import { Bucket, LimitDecision, RateLimitService } from './rate-limit.service';

const AUTH_BUCKETS = new Set<Bucket>(['login', 'register', 'refresh', 'forgotPassword']);

/**
 * Runs before authentication: the global limit on every /v1 route (per client IP, or per API key prefix),
 * then the route's own limit. 429 carries Retry-After and the contract's RATE_LIMIT / AUTH_RATE_LIMIT code.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limits: RateLimitService,
    private readonly events: SecurityEventsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const spec = this.reflector.getAllAndOverride<RateLimitSpec | undefined>(RATE_LIMIT, [
      context.getHandler(),
      context.getClass(),
    ]);
    const ip = clientIp(request);

    if (request.url.startsWith('/v1/')) {
      const apiKey = request.headers['x-api-key'];
      // Per key (its public prefix) for integrations, per client IP for everyone else.
      const subject =
        typeof apiKey === 'string' && /^hk_[a-z0-9]{8}_/.test(apiKey) ? `key:${apiKey.slice(0, 11)}` : `ip:${ip}`;
      const decision = await this.limits.consume('global', subject);
      reply.header('X-RateLimit-Limit', String(decision.limit));
      reply.header('X-RateLimit-Remaining', String(Math.max(0, decision.limit - decision.count)));
      if (!decision.allowed) await this.reject(request, 'global', decision);
      if (subject.startsWith('key:')) {
        // Rejected keys are charged to the caller's IP (AuthenticationGuard), so inventing a fresh prefix per
        // request does not buy a fresh budget: an IP over its limit is refused whatever key it shows.
        const byIp = await this.limits.check('global', `ip:${ip}`);
        if (!byIp.allowed) await this.reject(request, 'global', byIp);
      }
    }

    if (spec) {
      const decision = spec.failuresOnly
        ? await this.limits.check(spec.bucket, ip)
        : await this.limits.consume(spec.bucket, ip);
      if (!decision.allowed) await this.reject(request, spec.bucket, decision);
    }
    return true;
  }

  /** bucket:ip → when its window ends: one event per window and subject, so a flood does not flood the log. */
  private readonly reported = new Map<string, number>();

  private shouldReport(bucket: Bucket, ip: string, decision: LimitDecision): boolean {
    const key = `${bucket}:${ip}`;
    const now = Date.now();
    if ((this.reported.get(key) ?? 0) > now) return false;
    if (this.reported.size > 10_000) this.reported.clear();
    this.reported.set(key, now + decision.resetMs);
    return true;
  }

  private async reject(request: FastifyRequest, bucket: Bucket, decision: LimitDecision): Promise<never> {
    const ip = clientIp(request);
    if (this.shouldReport(bucket, ip, decision)) {
      await this.events.record('rate_limited', 'medium', {
        ip,
        userAgent: request.headers['user-agent'] ?? null,
        details: { bucket, path: request.url.split('?')[0], limit: decision.limit },
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
