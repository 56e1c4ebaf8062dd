import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AppException } from '../http/app.exception';
import { IS_PUBLIC } from './decorators';
import { Principal } from './principal';
import { clientIp } from './request-context';
import { RateLimitService } from '../rate-limit/rate-limit.service';

/** DI tokens under which the auth and API-key modules provide their passport strategies. */
export const JWT_STRATEGY = 'jwt';
export const API_KEY_STRATEGY = 'api-key';

/** What a passport strategy looks like from the outside (passport-strategy's protocol). */
interface PassportStrategyLike {
  authenticate(this: PassportStrategyLike & Record<string, unknown>, req: unknown, options?: unknown): void;
}

type Outcome = { user: Principal } | { failed: unknown };

/**
 * Runs one passport strategy against a request, the way passport.authenticate does, but on the strategy
 * instance of *this* application: passport's global registry holds one strategy per name per process,
 * which breaks as soon as two app instances share a process (tests, workers).
 */
function runStrategy(strategy: PassportStrategyLike, request: unknown): Promise<Outcome> {
  // Passport hands over the error as it came (a pg error keeps its code, so an outage maps to 503); it is
  // not always an Error of this realm, so no instanceof check.
  return new Promise((resolve, reject: (reason: Error) => void) => {
    const attempt = Object.create(strategy) as PassportStrategyLike & Record<string, unknown>;
    attempt.success = (user: Principal) => resolve({ user });
    attempt.fail = (info: unknown) => resolve({ failed: info });
    attempt.error = (err: unknown) => reject(err as Error);
    attempt.pass = () => resolve({ failed: undefined });
    attempt.redirect = () => resolve({ failed: undefined });
    try {
      attempt.authenticate(request, { session: false });
    } catch (err) {
      reject(err as Error);
    }
  });
}

/**
 * X-API-Key (passport-headerapikey) when the request carries one, else Bearer JWT (passport-jwt). Exactly one
 * strategy runs per request; it turns the credential into a Principal or throws the contract's error.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  private readonly strategies = new Map<string, PassportStrategyLike>();

  constructor(
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
    private readonly limits: RateLimitService,
  ) {}

  private strategy(name: string): PassportStrategyLike {
    let found = this.strategies.get(name);
    if (!found) {
      found = this.moduleRef.get<PassportStrategyLike>(name, { strict: false });
      this.strategies.set(name, found);
    }
    return found;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const name = request.headers['x-api-key'] !== undefined ? API_KEY_STRATEGY : JWT_STRATEGY;
    const outcome = await runStrategy(this.strategy(name), request);
    if ('user' in outcome && outcome.user) {
      request.principal = outcome.user;
      return true;
    }
    // A key that does not authenticate counts against the caller's IP (see RateLimitGuard).
    if (name === API_KEY_STRATEGY) await this.limits.recordFailure('global', `ip:${clientIp(request)}`);
    const info = 'failed' in outcome ? outcome.failed : undefined;
    const expired = info instanceof Error && info.name === 'TokenExpiredError';
    throw AppException.unauthenticated(expired ? 'Access token expired' : 'Missing or invalid credentials');
  }
}
