import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { HeaderAPIKeyStrategy } from 'passport-headerapikey';
import { RateLimitService } from '../../common/rate-limit/rate-limit.service';
import { actorOf } from '../../common/security/request-context';
import { ApiKeysService } from './api-keys.service';

/**
 * passport-headerapikey reading `X-API-Key`, with the request passed to the check (the IP allow-list needs
 * it). Built directly rather than through @nestjs/passport's mixin, whose callback assumes `done` comes last.
 */
@Injectable()
export class ApiKeyStrategy extends HeaderAPIKeyStrategy {
  constructor(keys: ApiKeysService, limits: RateLimitService) {
    super({ header: 'X-API-Key', prefix: '' }, true, (apiKey, done, request) => {
      const actor = actorOf(request as unknown as FastifyRequest);
      keys.authenticate(apiKey, actor.ip, actor.userAgent).then(
        (principal) => done(null, principal),
        // A key that is refused (expired, outside its allow-list) is charged to the caller's IP, like a wrong
        // secret (AuthenticationGuard charges those): only a key that authenticated spends its own budget.
        (err: Error) =>
          limits.recordFailure('global', `ip:${actor.ip}`).then(
            () => done(err),
            () => done(err),
          ),
      );
    });
  }
}
