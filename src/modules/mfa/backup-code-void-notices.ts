import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../../common/time/clock';
import { queryRows } from '../../database/query-rows';
import { MailService } from '../notifications/mail.service';

/**
 * Mails the owners of voided backup codes (migrations/1733400070000: codes stored before keyed verifiers) to make
 * new ones, once each. Runs at start-up and every 10 minutes (a mail that failed is tried again).
 *
 * Once across instances: each owner's enrolment row is claimed with FOR UPDATE SKIP LOCKED in its own
 * transaction, the mail is sent while the row is held, and `backup_codes_notice_sent_at` commits with it. Another
 * instance skips a held row and finds it done after. A failed mail rolls back and is retried on a later run;
 * only a crash between the mail being accepted and the commit could send it twice.
 */
@Injectable()
export class BackupCodeVoidNotices implements OnApplicationBootstrap {
  private readonly logger = new Logger(BackupCodeVoidNotices.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly mail: MailService,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    // Start-up is not held up by mail.
    void this.sendPending().catch((err: Error) => this.logger.warn(`backup-code notices: ${err.message}`));
  }

  @Cron(CronExpression.EVERY_10_MINUTES, { name: 'backup-code-void-notices' })
  async sendPending(): Promise<number> {
    const failed: string[] = [];
    let sent = 0;
    for (;;) {
      const outcome = await this.dataSource.transaction(async (m) => {
        const [due] = await queryRows<{ user_id: string; email: string }>(
          m,
          `SELECT mfa.user_id, u.email FROM user_mfa mfa JOIN users u ON u.id = mfa.user_id
            WHERE mfa.backup_codes_voided_at IS NOT NULL AND mfa.backup_codes_notice_sent_at IS NULL
              AND mfa.user_id <> ALL($1::uuid[])
            ORDER BY mfa.user_id LIMIT 1
            FOR UPDATE OF mfa SKIP LOCKED`,
          [failed],
        );
        if (!due) return 'none';
        try {
          await this.mail.send(this.notice(due.email));
        } catch (err) {
          this.logger.warn(`backup-code notice for ${due.user_id} not sent: ${(err as Error).message}`);
          failed.push(due.user_id);
          return 'failed';
        }
        await queryRows(m, `UPDATE user_mfa SET backup_codes_notice_sent_at = now() WHERE user_id = $1`, [due.user_id]);
        return 'sent';
      });
      if (outcome === 'none') break;
      if (outcome === 'sent') sent++;
    }
    if (sent) this.logger.log(`mailed ${sent} owner(s) of voided backup codes`);
    return sent;
  }

  private notice(to: string) {
    return {
      to,
      subject: 'Make new backup codes for your Hearth CRM account',
      text:
        'We changed how backup codes for two-factor authentication are stored. The backup codes you saved ' +
        'before this change no longer work.\n\n' +
        'Your authenticator app still works. Sign in and make new backup codes under Security settings ' +
        `(${this.config.publicUrl}/console/#/security), then keep them somewhere safe: they are how you get in ` +
        'if you lose your phone.\n',
    };
  }
}
