import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { MailService } from '../notifications/mail.service';

export interface AccountChange {
  /** The account owner's address. */
  to: string;
  subject: string;
  /** One sentence: what changed ("Two-factor authentication was turned off for your account."). */
  what: string;
  /** Where the change came from (the caller's IP). */
  ip: string;
  /** Sessions ended by the change (other devices signed out). */
  revokedSessions: number;
}

/**
 * Mails the owner of an account after a change to how it signs in (password, 2FA on or off, an admin's 2FA
 * reset): if it was not them, they learn it at once and from where. Sent after the change is committed; a
 * failed mail is logged and never undoes or fails the change.
 */
@Injectable()
export class AccountNotices {
  private readonly logger = new Logger(AccountNotices.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly mail: MailService,
  ) {}

  async securityChange(change: AccountChange): Promise<void> {
    const signedOut =
      change.revokedSessions === 0
        ? 'No other device was signed in.'
        : `${change.revokedSessions} other session${change.revokedSessions === 1 ? ' was' : 's were'} signed out.`;
    try {
      await this.mail.send({
        to: change.to,
        subject: change.subject,
        text:
          `${change.what}\n${signedOut}\n\nTime: ${new Date().toUTCString()}\nIP address: ${change.ip}\n\n` +
          `If this was not you, reset your password now (${this.config.publicUrl}/console/#/forgot-password) ` +
          `and tell your team's admin.\n`,
      });
    } catch (err) {
      this.logger.warn(`account-change mail failed: ${(err as Error).message}`);
    }
  }
}
