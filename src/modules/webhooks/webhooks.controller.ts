import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiDataResponse, ApiErrorResponses } from '../../common/http/api-responses.decorator';
import { ShownOnceSecret } from '../../common/http/shown-once-secret.decorator';
import { UuidPipe } from '../../common/http/uuid.pipe';
import { PaginationQuery } from '../../common/pagination/pagination-query.dto';
import {
  CurrentActor,
  Permission,
  RequireFreshAuth,
  RequireMfaEnrolment,
  Sensitive,
  UsersOnly,
} from '../../common/security/decorators';
import { Actor } from '../../common/security/principal';
import {
  CreateWebhookDto,
  CreatedWebhookResponse,
  DeliveryResponse,
  UpdateWebhookDto,
  WebhookDeletedResponse,
  WebhookResponse,
} from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

const ADMIN_ONLY: [number, string] = [
  403,
  'FORBIDDEN: admins only (API keys are refused too) | MFA_ENROLLMENT_REQUIRED: the admin has no 2FA',
];
const STEP_UP: [number, string] = [401, 'UNAUTHENTICATED, or REAUTH_REQUIRED: the last password entry is too old'];

const DELIVERY_DOC =
  'Each event is POSTed as JSON `{"type", "timestamp", "data"}` (data: the record in API shape; for `*.updated` it also holds `previous`, the changed fields\' old values) with the Standard Webhooks headers `webhook-id` (the event id, the same on every retry), `webhook-timestamp` (unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` keyed by the base64-decoded part of the secret after `whsec_`). A 2xx answer within WEBHOOK_TIMEOUT_MS is success; anything else (redirects are not followed) is retried with exponential backoff from WEBHOOK_RETRY_BASE_SECONDS up to WEBHOOK_MAX_ATTEMPTS. A hook failing every delivery for 24 h is deactivated and the admins are mailed.';

@ApiTags('webhooks')
@UsersOnly()
@RequireMfaEnrolment()
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @HttpCode(201)
  @Permission('webhooks', 'write')
  @RequireFreshAuth()
  @ShownOnceSecret('secret')
  @ApiOperation({
    summary: 'Create a webhook (admin with 2FA, recent password entry); the signing secret is shown this once',
    description: DELIVERY_DOC,
  })
  @ApiDataResponse(CreatedWebhookResponse, {
    status: 201,
    description: 'Created; `secret` is never shown again (an Idempotency-Key replay has `secret: null`)',
  })
  @ApiErrorResponses(
    [
      400,
      'VALIDATION_ERROR: bad fields, unknown event type, URL with credentials, not https in production, or a host resolving to a forbidden address',
    ],
    STEP_UP,
    ADMIN_ONLY,
  )
  create(@Body() body: CreateWebhookDto, @CurrentActor() actor: Actor) {
    return this.webhooks.create(actor, body);
  }

  @Get()
  @Permission('webhooks', 'read')
  @ApiOperation({ summary: "The team's webhooks, newest first (never the secret)" })
  @ApiDataResponse(WebhookResponse, { isArray: true })
  @ApiErrorResponses(401, ADMIN_ONLY)
  list(@CurrentActor() actor: Actor) {
    return this.webhooks.list(actor);
  }

  @Get(':id')
  @Permission('webhooks', 'read')
  @ApiOperation({ summary: 'One webhook (never the secret)' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiDataResponse(WebhookResponse)
  @ApiErrorResponses(400, 401, ADMIN_ONLY, 404)
  get(@Param('id', UuidPipe) id: string, @CurrentActor() actor: Actor) {
    return this.webhooks.get(actor, id);
  }

  @Patch(':id')
  @Permission('webhooks', 'write')
  @RequireFreshAuth()
  @ApiOperation({
    summary: 'Change a webhook (url, events, active, description)',
    description:
      'A new URL is checked like at creation. `active: false` stops deliveries (pending ones wait); `active: true` resumes them and restarts the 24-hour failure count.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiDataResponse(WebhookResponse)
  @ApiErrorResponses(400, STEP_UP, ADMIN_ONLY, 404)
  update(@Param('id', UuidPipe) id: string, @Body() body: UpdateWebhookDto, @CurrentActor() actor: Actor) {
    return this.webhooks.update(actor, id, body);
  }

  @Delete(':id')
  @Permission('webhooks', 'delete')
  @Sensitive('delete')
  @ApiOperation({
    summary: 'Remove a webhook and its pending deliveries',
    description: 'Needs a recent password entry when REQUIRE_REAUTH_FOR_DELETE is on (the default).',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiDataResponse(WebhookDeletedResponse)
  @ApiErrorResponses(400, STEP_UP, ADMIN_ONLY, 404)
  remove(@Param('id', UuidPipe) id: string, @CurrentActor() actor: Actor) {
    return this.webhooks.remove(actor, id);
  }

  @Get(':id/deliveries')
  @Permission('webhooks', 'read')
  @ApiOperation({
    summary: "The webhook's deliveries, newest first (keyset-paginated: `limit`, `cursor`)",
    description: 'status: pending (waiting for its next attempt), succeeded, or failed (every attempt used).',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiDataResponse(DeliveryResponse, { isArray: true, description: 'meta: {limit, nextCursor}' })
  @ApiErrorResponses(400, 401, ADMIN_ONLY, 404)
  deliveries(@Param('id', UuidPipe) id: string, @Query() query: PaginationQuery, @CurrentActor() actor: Actor) {
    return this.webhooks.deliveries(actor, id, query);
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  @Permission('webhooks', 'write')
  @ApiOperation({
    summary: 'Send a delivery again',
    description:
      'Queues a new delivery of the same event (same `webhook-id`, so receivers can drop a duplicate), due now. It goes out while the hook is active.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiParam({ name: 'deliveryId', format: 'uuid' })
  @ApiDataResponse(DeliveryResponse, { status: 202, description: 'Accepted: the new delivery' })
  @ApiErrorResponses(400, 401, ADMIN_ONLY, 404)
  redeliver(
    @Param('id', UuidPipe) id: string,
    @Param('deliveryId', UuidPipe) deliveryId: string,
    @CurrentActor() actor: Actor,
  ) {
    return this.webhooks.redeliver(actor, id, deliveryId);
  }

  @Post(':id/test')
  @HttpCode(202)
  @Permission('webhooks', 'write')
  @ApiOperation({ summary: 'Send a `webhook.test` event to this webhook (whatever it subscribes to)' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiDataResponse(DeliveryResponse, { status: 202, description: 'Accepted: the queued delivery' })
  @ApiErrorResponses(400, 401, ADMIN_ONLY, 404)
  test(@Param('id', UuidPipe) id: string, @CurrentActor() actor: Actor) {
    return this.webhooks.test(actor, id);
  }
}
