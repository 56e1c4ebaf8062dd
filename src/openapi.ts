import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Hearth CRM API')
    .setDescription(
      'Clients, leads, appointments, escrows and listings for real-estate teams. ' +
        'Every response is an envelope: `{"success": true, "data": ...}` or `{"success": false, "error": {"code", "message", "details"?}}`. ' +
        'Authenticate with `Authorization: Bearer <access token>` or `X-API-Key: <key>`.',
    )
    .setVersion('1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api-key')
    .addCookieAuth('refresh_token', { type: 'apiKey', in: 'cookie', name: 'refresh_token' }, 'refresh-cookie')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** GET /docs (UI) and GET /docs-json (the OpenAPI 3 document), generated from the code. */
export function setupOpenApi(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    useGlobalPrefix: false,
    customSiteTitle: 'Hearth CRM API',
  });
}
