import { ModulesContainer, Reflector } from '@nestjs/core';
import { MetadataScanner } from '@nestjs/core/metadata-scanner';
import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { IS_PUBLIC } from './common/security/decorators';
import { documentIdempotencyKey } from './modules/idempotency/idempotency.interceptor';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * Operation ids (the swagger module's default `<Controller>_<method>`) of the handlers that are @Public(),
 * read from the same route metadata AuthenticationGuard reads.
 */
function publicOperationIds(app: NestFastifyApplication): Set<string> {
  const reflector = new Reflector();
  const scanner = new MetadataScanner();
  const ids = new Set<string>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const { metatype } of module.controllers.values()) {
      if (typeof metatype !== 'function') continue;
      const prototype = metatype.prototype as Record<string, unknown>;
      for (const name of scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        if (typeof handler !== 'function') continue;
        if (reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, metatype])) ids.add(`${metatype.name}_${name}`);
      }
    }
  }
  return ids;
}

export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Hearth CRM API')
    .setDescription(
      'Clients, leads, appointments, escrows and listings for real-estate teams. ' +
        'Every response is an envelope: `{"success": true, "data": ...}` or `{"success": false, "error": {"code", "message", "details"?}}`. ' +
        'Authenticate with `Authorization: Bearer <access token>` or `X-API-Key: <key>`. ' +
        'Besides the codes each route lists, any route that reads a stored secret (2FA, webhooks, idempotent replays) may answer ' +
        '`500 DATA_KEY_MISMATCH`: the secret cannot be opened with the server’s data keys (an operator matter; the log names the row).',
    )
    .setVersion('1.0')
    // Relative: the API is served by the same origin as this document (PUBLIC_URL in production).
    .addServer('/', 'The server this document is served from')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api-key')
    .addCookieAuth('refresh_token', { type: 'apiKey', in: 'cookie', name: 'refresh_token' }, 'refresh-cookie')
    .build();
  const document = SwaggerModule.createDocument(app, config);

  // @Public() routes need no credentials: say so (`security: []`), unless the route names the one it takes
  // (the refresh cookie). The swagger module drops an empty security list set on a method, hence this pass.
  const publicIds = publicOperationIds(app);
  for (const item of Object.values(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation && publicIds.has(operation.operationId ?? '') && !operation.security) operation.security = [];
    }
  }
  documentIdempotencyKey(document as unknown as Parameters<typeof documentIdempotencyKey>[0]);
  return document;
}

/** GET /docs (UI) and GET /docs-json (the OpenAPI 3 document), generated from the code. */
export function setupOpenApi(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    useGlobalPrefix: false,
    customSiteTitle: 'Hearth CRM API',
  });
}
