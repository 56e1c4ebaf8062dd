import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AppConfig } from '../../config/app-config';

export const REFRESH_COOKIE = 'refresh_token';
export const REFRESH_COOKIE_PATH = '/v1/auth';

export function refreshCookieOptions(config: AppConfig) {
  return {
    httpOnly: true,
    secure: config.cookies.secure,
    sameSite: config.cookies.sameSite,
    domain: config.cookies.domain,
    path: REFRESH_COOKIE_PATH,
    maxAge: Math.floor(config.jwt.refreshTtlSeconds),
  } as const;
}

export function setRefreshCookie(reply: FastifyReply, config: AppConfig, token: string): void {
  reply.setCookie(REFRESH_COOKIE, token, refreshCookieOptions(config));
}

export function clearRefreshCookie(reply: FastifyReply, config: AppConfig): void {
  const { maxAge: _unused, ...options } = refreshCookieOptions(config);
  reply.clearCookie(REFRESH_COOKIE, options);
}

/** The body's token (non-browser clients) wins over the cookie. */
export function presentedRefreshToken(
  request: FastifyRequest,
  bodyToken?: string,
): { token?: string; fromBody: boolean } {
  if (bodyToken) return { token: bodyToken, fromBody: true };
  return { token: request.cookies?.[REFRESH_COOKIE], fromBody: false };
}
