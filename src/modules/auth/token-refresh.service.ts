import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { AppException } from '../../common/http/app.exception';
import { SecurityEventsService } from '../security-events/security-events.service';
import { RequestOrigin, originEvent } from './auth.service';
import { RefreshRefusal, SessionsService } from './sessions.service';
import { IssuedAccessToken, TokenService } from './token.service';

export interface Refreshed extends IssuedAccessToken {
  refreshToken: string;
}

/** What to answer for a refused refresh token, per the contract's rotation and reuse rules. */
export function refusalOutcome(refusal: RefreshRefusal, theftDetection: boolean): 'invalid' | 'theft' {
  return refusal.kind === 'reuse' && theftDetection ? 'theft' : 'invalid';
}

/**
 * POST /v1/auth/refresh: rotate the presented token (one winner under races), or work out why it is dead.
 * The immediate predecessor within the grace period is a lost response or a second tab: refused, nothing
 * else happens. Any other dead token is reuse: every session of its user is revoked.
 */
@Injectable()
export class TokenRefreshService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sessions: SessionsService,
    private readonly tokens: TokenService,
    private readonly events: SecurityEventsService,
  ) {}

  async refresh(presented: string | undefined, origin: RequestOrigin): Promise<Refreshed> {
    const invalid = new AppException('INVALID_REFRESH_TOKEN', 'The refresh token is invalid or expired; sign in again');
    if (!presented || presented.length > 200) throw invalid;

    if (this.config.detection.deviceFingerprintCheck) {
      const owner = await this.sessions.fingerprintOf(presented);
      if (owner && owner.fingerprint && owner.fingerprint !== origin.fingerprint) {
        await this.sessions.revokeSession(owner.sessionId, 'device_mismatch');
        await this.events.record(
          'device_mismatch',
          'high',
          originEvent(origin, owner.userId, owner.teamId, { sessionId: owner.sessionId, device: origin.device }),
        );
        throw invalid;
      }
    }

    const rotated = await this.sessions.rotate(presented);
    if (rotated) {
      await this.events.record(
        'token_refreshed',
        'low',
        originEvent(origin, rotated.userId, rotated.teamId, { sessionId: rotated.sessionId }),
      );
      const access = this.tokens.signAccess({
        sub: rotated.userId,
        team: rotated.teamId,
        role: rotated.role,
        sid: rotated.sessionId,
        auth_time: Math.floor(rotated.authenticatedAt.getTime() / 1000),
      });
      return { ...access, refreshToken: rotated.refreshToken };
    }

    const refusal = await this.sessions.diagnose(presented);
    if (refusal.kind === 'dead-session' && refusal.reason !== 'revoked') {
      await this.sessions.revokeSession(refusal.sessionId, refusal.reason);
    }
    if (refusalOutcome(refusal, this.config.sessions.theftDetection) === 'theft' && refusal.kind === 'reuse') {
      const revoked = await this.sessions.revokeAllForUser(refusal.userId, 'token_reuse');
      await this.events.record(
        'token_theft_detected',
        'critical',
        originEvent(origin, refusal.userId, refusal.teamId, {
          sessionId: refusal.sessionId,
          sessionsRevoked: revoked.length,
        }),
      );
      throw new AppException(
        'TOKEN_REUSE_DETECTED',
        'This refresh token was already used; every session of this account has been signed out',
      );
    }
    throw invalid;
  }
}
