import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../common/time/clock';
import { queryAffected } from '../../database/query-rows';
import { JobRuns } from '../../common/metrics/job-runs';

/** Delivered or given-up events (and their deliveries) are kept this long for the deliveries list and redelivery. */
export const WEBHOOK_EVENT_RETENTION_DAYS = 30;

/** Daily purge of old webhook events whose deliveries are all finished (their deliveries go with them). */
@Injectable()
export class WebhookRetention {
  private readonly logger = new Logger(WebhookRetention.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly jobs: JobRuns,
  ) {}

  @Cron(CronExpression.EVERY_DAY_AT_4AM, { name: 'webhook-retention' })
  scheduled(): Promise<number> {
    return this.jobs.run('webhook-retention', { cron: true }, () => this.purge());
  }

  async purge(now = this.clock.now()): Promise<number> {
    const cutoff = new Date(now.getTime() - WEBHOOK_EVENT_RETENTION_DAYS * 86_400_000);
    let total = 0;
    // In batches, so a first purge of a large table does not hold one long transaction.
    for (;;) {
      const deleted = await queryAffected(
        this.dataSource.manager,
        `DELETE FROM webhook_events WHERE id IN (
           SELECT e.id FROM webhook_events e
            WHERE e.created_at < $1
              AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.team_id = e.team_id AND d.event_id = e.id AND d.status = 'pending')
            LIMIT 5000)`,
        [cutoff],
      );
      total += deleted;
      if (deleted < 5000) break;
    }
    if (total) this.logger.log(`purged ${total} webhook events older than ${cutoff.toISOString()}`);
    return total;
  }
}
