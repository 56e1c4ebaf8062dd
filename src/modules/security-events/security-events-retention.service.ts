import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../../common/time/clock';
import { queryAffected } from '../../database/query-rows';
import { JobRuns } from '../../common/metrics/job-runs';

/** Daily purge of security events past SECURITY_LOG_RETENTION_DAYS. Audit rows are never touched. */
@Injectable()
export class SecurityEventsRetention {
  private readonly logger = new Logger(SecurityEventsRetention.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly jobs: JobRuns,
  ) {}

  @Cron(CronExpression.EVERY_DAY_AT_3AM, { name: 'security-events-retention' })
  scheduled(): Promise<number> {
    return this.jobs.run('security-events-retention', { cron: true }, () => this.purge());
  }

  async purge(now = this.clock.now()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.securityEvents.retentionDays * 86_400_000);
    let total = 0;
    // In batches, so a first purge of a large table does not hold one long transaction.
    for (;;) {
      const deleted = await queryAffected(
        this.dataSource.manager,
        `DELETE FROM security_events WHERE id IN (SELECT id FROM security_events WHERE created_at < $1 LIMIT 5000)`,
        [cutoff],
      );
      total += deleted;
      if (deleted < 5000) break;
    }
    if (total) this.logger.log(`purged ${total} security events older than ${cutoff.toISOString()}`);
    return total;
  }
}
