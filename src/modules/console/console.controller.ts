import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig, MAX_API_KEY_LIFETIME_DAYS } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { AppException } from '../../common/http/app.exception';
import { crmCatalogue } from '../../common/resources/crm-catalogue';
import { Public } from '../../common/security/decorators';
import { SECURITY_EVENT_TYPES, SEVERITIES } from '../../common/security/security-event-sink';
import { AuditService } from '../audit/audit.service';
import { ConsoleAsset, ConsoleAssets } from './console-assets.service';

/** What the browser app needs to know about this server's settings (nothing secret: the rules it enforces). */
export interface ConsoleClientConfig {
  passwordPolicy: Omit<AppConfig['passwordPolicy'], 'historySize'>;
  apiKeys: { defaultExpiryDays: number; maxExpiryDays: number; expiryWarningDays: number };
  /** The CRM resources (from the catalogue): the key scopes page and the webhook event picker list them. */
  crmResources: Array<{ resource: string; label: string; webhookType: string; extraWebhookEvents: readonly string[] }>;
  /** The audit log's resource filter. */
  auditResourceTypes: readonly string[];
  /** The audit log's action filter. */
  auditActions: readonly string[];
  /** The security events log's filters. */
  securityEventTypes: readonly string[];
  severities: readonly string[];
}

/** What /console/config.json serves, from the settings, the registered CRM resources and the server's own lists. */
export function consoleClientConfig(config: AppConfig): ConsoleClientConfig {
  const { historySize: _notForTheBrowser, ...passwordPolicy } = config.passwordPolicy;
  return {
    passwordPolicy,
    apiKeys: {
      defaultExpiryDays: config.apiKeys.defaultExpiryDays,
      maxExpiryDays: MAX_API_KEY_LIFETIME_DAYS,
      expiryWarningDays: config.apiKeys.expiryWarningDays,
    },
    crmResources: crmCatalogue.entries().map((e) => ({
      resource: e.resource,
      label: e.label,
      webhookType: e.webhookType,
      extraWebhookEvents: e.extraWebhookEvents,
    })),
    auditResourceTypes: AuditService.resourceTypes(),
    auditActions: AuditService.actions(),
    securityEventTypes: SECURITY_EVENT_TYPES,
    severities: SEVERITIES,
  };
}

/**
 * The web console: static files of the top-level console/ folder at /console (outside /v1, not in the API
 * document). Same origin as the API, so the app's strict CSP, the SameSite refresh cookie and plain fetch work.
 */
@ApiExcludeController()
@Public()
@Controller('console')
export class ConsoleController {
  private readonly clientConfig: Buffer;

  constructor(
    private readonly assets: ConsoleAssets,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.clientConfig = Buffer.from(JSON.stringify(consoleClientConfig(config)));
  }

  @Get()
  index(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.send(request, reply, this.assets.index());
  }

  @Get('config.json')
  config(@Res() reply: FastifyReply) {
    return reply.type('application/json; charset=utf-8').header('cache-control', 'no-cache').send(this.clientConfig);
  }

  @Get('*')
  file(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    // The raw URL, not the router's decoded parameter: an encoded "/" or "\" must stay inside its segment.
    const path = (request.url.split(/[?#]/)[0] ?? '').replace(/^\/console\/?/, '');
    return this.send(request, reply, this.assets.find(path));
  }

  private send(request: FastifyRequest, reply: FastifyReply, asset: ConsoleAsset | null) {
    if (!asset) throw AppException.notFound('File');
    reply.header('cache-control', asset.cacheControl).header('etag', asset.etag);
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(asset.contentType).send(asset.body);
  }
}
