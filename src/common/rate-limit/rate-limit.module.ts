import { Global, Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ThrottlerModule } from '@nestjs/throttler';
import { APP_CONFIG } from '../../config/config.module';
import { type AppConfig } from '../../config/app-config';
import { mapError } from '../http/error-mapping';
import { clientIp } from '../security/request-context';
import { throttlerOptions } from './rate-limit.guard';
import { RateLimitService, chargedGlobal } from './rate-limit.service';
import { RateLimitStorage } from './rate-limit.storage';

/**
 * @nestjs/throttler with the app's named throttlers and ONE storage (in process, or Redis when REDIS_URL is set)
 * that the throttler guards and RateLimitService share. The guards themselves are APP_GUARDs in AppModule, where
 * their order relative to authentication is set.
 *
 * A request answered 404 without passing the guards (no route matched, or an empty route parameter) is still
 * counted against the caller's global budget (per IP), so no spelling of a path, routed or not, is free:
 * `/v1/clients/` (a 404 here) draws from the same budget as `/v1/clients`.
 */
@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => throttlerOptions(config, new RateLimitStorage(config.redisUrl)),
    }),
  ],
  providers: [RateLimitService],
  exports: [RateLimitService],
})
export class RateLimitModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly limits: RateLimitService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify?.addHook) return;
    // Before the 404 goes out (so the next request already sees the count), whatever produced it: no route
    // matched, or Nest's router refused an empty parameter (`/v1/clients/` matches `/v1/clients/:id`).
    fastify.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      if (reply.statusCode !== 404 || chargedGlobal(request)) return payload;
      const subject = `ip:${clientIp(request)}`;
      const decision = await this.limits.consume('global', subject);
      if (decision.allowed) return payload;
      // Over the limit: the contract's 429 (and its event) instead of the 404.
      const refused = mapError(await this.limits.reject(request, 'global', subject, decision).catch((e: unknown) => e));
      void reply.code(refused.status).type('application/json; charset=utf-8');
      for (const [name, value] of Object.entries(refused.headers)) void reply.header(name, value);
      return JSON.stringify(refused.body);
    });
  }
}
