import type { FastifyRequest } from 'fastify';
import { type Actor, type Principal } from './principal';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** The client IP per TRUST_PROXY (Fastify resolves X-Forwarded-For with proxy-addr, as Express does). */
export function clientIp(request: FastifyRequest): string {
  const ip = request.ip ?? request.socket?.remoteAddress ?? '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

export function actorOf(request: FastifyRequest): Actor {
  const ua = request.headers['user-agent'];
  return {
    principal: request.principal,
    ip: clientIp(request),
    userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null,
  };
}
