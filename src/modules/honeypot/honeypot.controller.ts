import { All, Controller, Get, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiExcludeController, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AppException } from '../../common/http/app.exception';
import { type AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { Public } from '../../common/security/decorators';
import { actorOf } from '../../common/security/request-context';
import { SecurityEventsService } from '../security-events/security-events.service';
import { IpBlocklistService } from './ip-blocklist.service';

/**
 * Decoys no legitimate client calls. The contract's two (/v1/admin/users, /v1/admin/backdoor) and a few
 * paths scanners probe. They answer like the real thing would, and record who asked.
 */
@ApiTags('honeypots')
@ApiExcludeController() // a decoy is only a decoy while nothing documents it
@Public()
@Controller()
export class HoneypotController {
  constructor(
    private readonly events: SecurityEventsService,
    private readonly blocklist: IpBlocklistService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * A browser sent this on behalf of another site (an Origin outside CORS_ALLOWED_ORIGINS, or Fetch
   * metadata saying cross-site): any web page can make its visitors POST here, so such a hit must not get
   * their office's IP blocked.
   */
  private crossSite(request: FastifyRequest): string | null {
    const origin = request.headers.origin;
    if (typeof origin === 'string' && origin !== '' && !this.config.cors.allowedOrigins.includes(origin)) return origin;
    return request.headers['sec-fetch-site'] === 'cross-site' ? 'sec-fetch-site: cross-site' : null;
  }

  private async record(request: FastifyRequest, decoy: string, extra: Record<string, unknown> = {}) {
    const actor = actorOf(request);
    await this.events.record('honeypot_triggered', 'high', {
      ip: actor.ip,
      userAgent: actor.userAgent,
      details: { decoy, method: request.method, path: request.url.split('?')[0], ...extra },
    });
  }

  @Get('admin/users')
  @ApiOperation({
    summary: 'Honeypot: looks like an admin user list; records the caller',
    description: 'Always an empty list.',
  })
  @ApiOkResponse({ description: 'data: []' })
  async fakeAdminUsers(@Req() request: FastifyRequest) {
    await this.record(request, 'admin-users');
    return [];
  }

  @Post('admin/backdoor')
  @HttpCode(404)
  @ApiOperation({ summary: 'Honeypot: answers 404 and blocklists the caller IP for HONEYPOT_BLOCK_HOURS' })
  async backdoor(@Req() request: FastifyRequest): Promise<never> {
    const ip = actorOf(request).ip;
    const crossSite = this.crossSite(request);
    if (crossSite) {
      await this.record(request, 'backdoor', { crossSite, blocked: false });
      throw AppException.notFound('Route');
    }
    const until = await this.blocklist.block(ip, 'honeypot: POST /v1/admin/backdoor');
    await this.record(request, 'backdoor', { blockedUntil: until.toISOString() });
    await this.events.record('ip_blocked', 'high', {
      ip,
      userAgent: actorOf(request).userAgent,
      details: { reason: 'honeypot', blockedUntil: until.toISOString() },
    });
    throw AppException.notFound('Route');
  }
}

/** Paths outside /v1 that scanners probe; recorded, answered 404, not blocked (they are often noise). */
export const SCANNER_DECOYS = ['/.env', '/wp-login.php', '/wp-admin', '/phpmyadmin', '/.git/config', '/server-status'];

@ApiExcludeController()
@Public()
@Controller()
export class ScannerDecoyController {
  constructor(private readonly events: SecurityEventsService) {}

  @All(SCANNER_DECOYS.map((p) => p.slice(1)))
  async decoy(@Req() request: FastifyRequest): Promise<never> {
    const actor = actorOf(request);
    await this.events.record('honeypot_triggered', 'medium', {
      ip: actor.ip,
      userAgent: actor.userAgent,
      details: { decoy: 'scanner-probe', method: request.method, path: request.url.split('?')[0] },
    });
    throw AppException.notFound('Route');
  }
}
