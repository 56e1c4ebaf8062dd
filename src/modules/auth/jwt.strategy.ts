import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import jwt from 'jsonwebtoken';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { JWT_STRATEGY } from '../../common/security/authentication.guard';
import { UserPrincipal } from '../../common/security/principal';
import { Clock } from '../../common/time/clock';
import { SessionsService } from './sessions.service';
import { AccessClaims, TokenService } from './token.service';

/**
 * Bearer access tokens: signature and expiry by passport-jwt (algorithm pinned, so `alg: none` and other
 * algorithms are refused), then the session behind `sid` must still be live — revoking a session ends its
 * access tokens at once, not at their expiry. Expiry is checked twice: by jsonwebtoken against the system time,
 * and here against the Clock that every session rule reads (they differ only when a test moves the clock).
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(
    tokens: TokenService,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly sessions: SessionsService,
    private readonly clock: Clock,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // passport-jwt hands this to jsonwebtoken.verify, which accepts a KeyObject.
      secretOrKey: tokens.key as unknown as string,
      algorithms: [config.jwt.algorithm],
      ignoreExpiration: false,
    });
  }

  /** A principal, or false (with the reason passport hands to the guard as `info`). */
  async validate(claims: AccessClaims & { exp?: unknown }): Promise<UserPrincipal | false | [false, Error]> {
    if (typeof claims.sid !== 'string' || typeof claims.sub !== 'string' || typeof claims.auth_time !== 'number')
      return false;
    if (typeof claims.exp !== 'number') return false;
    if (this.clock.nowMs() >= claims.exp * 1000)
      return [false, new jwt.TokenExpiredError('jwt expired', new Date(claims.exp * 1000))];
    const live = await this.sessions.liveSession(claims.sid);
    if (!live || live.userId !== claims.sub) return false;
    return {
      kind: 'user',
      userId: live.userId,
      teamId: live.teamId,
      role: live.role,
      email: live.email,
      sessionId: claims.sid,
      authTime: claims.auth_time * 1000,
      mfaEnabled: live.mfaEnabled,
    };
  }
}
