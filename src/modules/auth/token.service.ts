import { Inject, Injectable } from '@nestjs/common';
import { KeyObject, createHash, createSecretKey, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { Role } from '../../common/security/principal';
import { Clock } from '../../common/time/clock';

export interface AccessClaims {
  sub: string;
  team: string;
  role: Role;
  sid: string;
  /** Seconds since epoch of the last password entry. */
  auth_time: number;
}

export interface IssuedAccessToken {
  accessToken: string;
  expiresIn: number;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** 256 bits from the CSPRNG, URL-safe: refresh and reset tokens. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Access tokens. The secret is held as a KeyObject built once: jsonwebtoken would otherwise try to parse a
 * string secret as a PEM key on every verify (≈580 µs vs 12 µs here).
 */
@Injectable()
export class TokenService {
  readonly key: KeyObject;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.key = createSecretKey(Buffer.from(config.jwt.secret, 'utf8'));
  }

  get algorithm(): AppConfig['jwt']['algorithm'] {
    return this.config.jwt.algorithm;
  }

  signAccess(claims: AccessClaims): IssuedAccessToken {
    const expiresIn = Math.round(this.config.jwt.accessTtlSeconds);
    // iat (and so exp) from the Clock: the strategy checks exp against the same clock.
    const iat = Math.floor(this.clock.nowMs() / 1000);
    const accessToken = jwt.sign({ ...claims, iat }, this.key, { algorithm: this.config.jwt.algorithm, expiresIn });
    return { accessToken, expiresIn };
  }
}
