import { CanActivate, ExecutionContext, Injectable, Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard, IAuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { AppException } from '../http/app.exception';
import { IS_PUBLIC } from './decorators';
import { Principal } from './principal';

export const JWT_STRATEGY = 'jwt';
export const API_KEY_STRATEGY = 'api-key';

/** A passport guard for one strategy whose failures become the contract's UNAUTHENTICATED. */
function strategyGuard(strategy: string): Type<IAuthGuard> {
  class StrategyGuard extends AuthGuard(strategy) {
    override handleRequest<T = Principal>(err: unknown, user: unknown, info: unknown, context: ExecutionContext): T {
      if (err) throw err;
      if (!user) {
        const expired = info instanceof Error && info.name === 'TokenExpiredError';
        throw AppException.unauthenticated(expired ? 'Access token expired' : 'Missing or invalid credentials');
      }
      context.switchToHttp().getRequest<FastifyRequest>().principal = user as Principal;
      return user as T;
    }
  }
  return StrategyGuard;
}

const JwtGuard = strategyGuard(JWT_STRATEGY);
const ApiKeyGuard = strategyGuard(API_KEY_STRATEGY);

/**
 * X-API-Key (passport-headerapikey) when the request carries one, else Bearer JWT (passport-jwt). Exactly one
 * strategy runs per request; it turns the credential into a Principal or throws the contract's error.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  private readonly jwt = new JwtGuard();
  private readonly apiKey = new ApiKeyGuard();

  constructor(private readonly reflector: Reflector) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const guard = request.headers['x-api-key'] !== undefined ? this.apiKey : this.jwt;
    return (await guard.canActivate(context)) as boolean;
  }
}
