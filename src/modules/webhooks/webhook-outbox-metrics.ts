import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Metrics, sharedRead } from '../../common/metrics/metrics';
import { queryRows } from '../../database/query-rows';

/** The scrape-time query may not run longer than this (its gauges keep their last value otherwise). */
const READ_TIMEOUT_MS = 1_000;

interface OutboxDepth {
  pending: number;
  oldestAgeSeconds: number;
}

/**
 * Outbox depth for /metrics: pending deliveries of active hooks (waiting for their first attempt or a retry) and
 * how long the oldest of them has been waiting. A deactivated hook's kept backlog is left out: the dispatcher does
 * not work on it, and it would hold the age up until its team acts. One query per scrape on the pending rows only
 * (webhook_deliveries_due_idx is partial on status = 'pending'), under a statement timeout of its own.
 */
@Injectable()
export class WebhookOutboxMetrics implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    const depth = sharedRead(() => this.depth());
    this.metrics.scrapedGauge(
      'hearth_webhook_outbox_pending',
      'Webhook deliveries of active hooks not yet delivered or given up (first attempt or a retry to come)',
      async () => (await depth()).pending,
    );
    this.metrics.scrapedGauge(
      'hearth_webhook_outbox_oldest_age_seconds',
      'Age of the oldest pending webhook delivery of an active hook (0 when none is pending)',
      async () => (await depth()).oldestAgeSeconds,
    );
  }

  /** Across all teams, as the dispatcher reads the outbox. */
  depth(): Promise<OutboxDepth> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SET LOCAL statement_timeout = ${READ_TIMEOUT_MS}`);
      const [row] = await queryRows<{ pending: string; oldest_age_seconds: number | null }>(
        manager,
        `SELECT count(*) AS pending,
                extract(epoch FROM clock_timestamp() - min(d.created_at))::float8 AS oldest_age_seconds
           FROM webhook_deliveries d
          WHERE d.status = 'pending' AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id AND w.active)`,
      );
      return { pending: Number(row?.pending ?? 0), oldestAgeSeconds: Math.max(0, row?.oldest_age_seconds ?? 0) };
    });
  }
}
