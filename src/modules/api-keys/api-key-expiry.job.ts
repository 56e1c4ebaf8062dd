import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../../common/time/clock';
import { queryRows } from '../../database/query-rows';
import { MailService } from '../notifications/mail.service';
import { JobRuns } from '../../common/metrics/job-runs';

/**
 * Hourly: each key entering its last API_KEY_EXPIRY_WARNING_DAYS is claimed once (expiry_warned_at, so several
 * instances never send twice) and its team's admins are mailed.
 */
@Injectable()
export class ApiKeyExpiryJob {
  private readonly logger = new Logger(ApiKeyExpiryJob.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly mail: MailService,
    private readonly clock: Clock,
    private readonly jobs: JobRuns,
  ) {}

  @Cron(CronExpression.EVERY_HOUR, { name: 'api-key-expiry-warnings' })
  scheduled(): Promise<number> {
    return this.jobs.run('api-key-expiry-warnings', { cron: true }, () => this.warnExpiringKeys());
  }

  async warnExpiringKeys(now = this.clock.now()): Promise<number> {
    const horizon = new Date(now.getTime() + this.config.apiKeys.expiryWarningDays * 86_400_000);
    const claimed = await queryRows<{ id: string; team_id: string; name: string; prefix: string; expires_at: Date }>(
      this.dataSource.manager,
      `UPDATE api_keys SET expiry_warned_at = $1
        WHERE revoked_at IS NULL AND expiry_warned_at IS NULL AND expires_at > $1 AND expires_at <= $2
        RETURNING id, team_id, name, prefix, expires_at`,
      [now, horizon],
    );
    for (const key of claimed) {
      const admins = await queryRows<{ email: string }>(
        this.dataSource.manager,
        `SELECT email FROM users WHERE team_id = $1 AND role = 'admin' AND NOT disabled ORDER BY created_at`,
        [key.team_id],
      );
      if (!admins.length) continue;
      const days = Math.max(0, Math.ceil((key.expires_at.getTime() - now.getTime()) / 86_400_000));
      await this.mail
        .send({
          to: admins.map((a) => a.email),
          subject: `API key "${key.name}" expires in ${days} day${days === 1 ? '' : 's'}`,
          text:
            `The API key "${key.name}" (${key.prefix}…) expires on ${key.expires_at.toUTCString()}.\n\n` +
            `Create a replacement and switch your integration to it before then: ${this.config.publicUrl}/console/#/api-keys\n`,
        })
        .catch((err: Error) => this.logger.warn(`expiry warning for ${key.id} not sent: ${err.message}`));
    }
    return claimed.length;
  }
}
