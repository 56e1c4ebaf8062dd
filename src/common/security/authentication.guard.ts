import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { AppException } from '../http/app.exception';
import { IS_PUBLIC } from './decorators';
import { Principal } from './principal';

export const JWT_STRATEGY = 'jwt';
export const API_KEY_STRATEGY = 'api-key';

/**
 * Bearer JWT (passport-jwt) or X-API-Key (passport-headerapikey), whichever the request carries; the
 * strategies turn a credential into a Principal or throw the contract's error (expired key, IP not allowed).
 */
@Injectable()
export class AuthenticationGuard extends AuthGuard([JWT_STRATEGY, API_KEY_STRATEGY]) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    return super.canActivate(context);
  }

  override handleRequest<T = Principal>(err: unknown, user: unknown, info: unknown, context: ExecutionContext): T {
    if (err) throw err;
    if (!user) {
      const infos = Array.isArray(info) ? info : [info];
      const expired = infos.some((i) => i && typeof i === 'object' && (i as Error).name === 'TokenExpiredError');
      throw AppException.unauthenticated(expired ? 'Access token expired' : 'Missing or invalid credentials');
    }
    context.switchToHttp().getRequest<FastifyRequest>().principal = user as Principal;
    return user as T;
  }
}
