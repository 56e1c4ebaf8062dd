import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { HeaderAPIKeyStrategy } from 'passport-headerapikey';
import { actorOf } from '../../common/security/request-context';
import { ApiKeysService } from './api-keys.service';

/**
 * passport-headerapikey reading `X-API-Key`, with the request passed to the check (the IP allow-list needs
 * it). Built directly rather than through @nestjs/passport's mixin, whose callback assumes `done` comes last.
 */
@Injectable()
export class ApiKeyStrategy extends HeaderAPIKeyStrategy {
  constructor(keys: ApiKeysService) {
    super({ header: 'X-API-Key', prefix: '' }, true, (apiKey, done, request) => {
      const actor = actorOf(request as unknown as FastifyRequest);
      keys.authenticate(apiKey, actor.ip, actor.userAgent).then(
        (principal) => done(null, principal),
        (err: Error) => done(err),
      );
    });
  }
}
