import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import nodemailer, { Transporter } from 'nodemailer';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';

export interface OutgoingMail {
  to: string | string[];
  subject: string;
  text: string;
  html?: string;
}

/**
 * All mail goes through nodemailer: SMTP when SMTP_URL is set, otherwise each message is rendered to an
 * .eml file in DATA_DIR/outbox (what a developer opens, and what the tests read).
 */
@Injectable()
export class MailService implements OnModuleDestroy {
  private readonly logger = new Logger(MailService.name);
  private readonly transport: Transporter;
  private readonly outbox?: string;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    if (config.mail.smtpUrl) {
      this.transport = nodemailer.createTransport(config.mail.smtpUrl);
    } else {
      this.outbox = config.mail.outboxDir;
      mkdirSync(this.outbox, { recursive: true });
      this.transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
    }
  }

  /** Sends and resolves when the message is accepted; throws on failure (callers decide whether it matters). */
  async send(mail: OutgoingMail): Promise<void> {
    const info = await this.transport.sendMail({ from: this.config.mail.from, ...mail });
    if (this.outbox) {
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`;
      writeFileSync(join(this.outbox, name), (info as unknown as { message: Buffer }).message, { mode: 0o600 });
    }
    this.logger.log(`mail "${mail.subject}" sent`);
  }

  onModuleDestroy(): void {
    this.transport.close();
  }
}
