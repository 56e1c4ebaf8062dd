import { Global, Module } from '@nestjs/common';
import { ChangeOutbox } from '../../common/events/change-outbox';
import { UsersModule } from '../users/users.module';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookOutbox } from './webhook-outbox';
import { WebhookOutboxMetrics } from './webhook-outbox-metrics';
import { WebhookRetention } from './webhook-retention';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/**
 * Outgoing webhooks: management routes, the transactional outbox (ChangeOutbox, used by AuditService.withAudit
 * and by domain events such as lead.converted) and the dispatcher. Global so that the audit writer and the CRM
 * services find the optional ChangeOutbox without importing this module.
 */
@Global()
@Module({
  imports: [UsersModule],
  controllers: [WebhooksController],
  providers: [
    WebhooksService,
    WebhookOutbox,
    WebhookDispatcher,
    WebhookRetention,
    WebhookOutboxMetrics,
    { provide: ChangeOutbox, useExisting: WebhookOutbox },
  ],
  exports: [ChangeOutbox],
})
export class WebhooksModule {}
