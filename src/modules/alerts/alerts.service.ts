import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { MailService } from '../notifications/mail.service';
import { SecurityEvent } from '../security-events/entities/security-event.entity';
import { SecurityEventsService } from '../security-events/security-events.service';

/** Backoff before each retry; the first attempt is immediate. */
const RETRY_DELAYS_MS = [500, 2_000, 5_000];
const ATTEMPT_TIMEOUT_MS = 5_000;

export interface AlertDelivery {
  channel: 'email' | 'webhook';
  eventId: string;
  ok: boolean;
  attempts: number;
  error?: string;
}

/**
 * Turns security events into alerts (mail to ALERT_EMAIL_TO, a Slack-compatible JSON POST to
 * ALERT_WEBHOOK_URL) per the ALERT_ON_* rules, plus every critical event. Delivery runs after the request
 * that caused the event has been answered, is retried with backoff, and never fails that request.
 */
@Injectable()
export class AlertsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AlertsService.name);
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Recent deliveries, for diagnostics and tests. */
  readonly deliveries: AlertDelivery[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly events: SecurityEventsService,
    private readonly mail: MailService,
  ) {}

  onModuleInit(): void {
    this.events.onRecorded((event) => {
      if (!this.shouldAlert(event)) return;
      // setImmediate: the request path never waits for the alert.
      setImmediate(() => this.track(this.deliver(event)));
    });
  }

  shouldAlert(event: Pick<SecurityEvent, 'eventType' | 'severity'>): boolean {
    const a = this.config.alerts;
    if (!a.emailTo && !a.webhookUrl) return false;
    switch (event.eventType) {
      case 'account_locked':
        return a.onAccountLockout;
      case 'multiple_failed_logins':
        return a.onMultipleFailedLogins;
      case 'geo_anomaly_detected':
        return a.onGeoAnomaly;
      case 'token_theft_detected':
        return a.onTokenTheft;
      case 'data_export_large':
        return true;
      default:
        return event.severity === 'critical';
    }
  }

  private track(p: Promise<unknown>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private summary(event: SecurityEvent): string {
    const who = event.userId ? ` user ${event.userId}` : '';
    const from = event.ipAddress ? ` from ${event.ipAddress}` : '';
    return `[${event.severity.toUpperCase()}] ${event.eventType}${who}${from} at ${event.createdAt.toISOString()}`;
  }

  private async deliver(event: SecurityEvent): Promise<void> {
    const jobs: Promise<void>[] = [];
    if (this.config.alerts.emailTo) jobs.push(this.withRetry('email', event, () => this.sendMail(event)));
    if (this.config.alerts.webhookUrl) jobs.push(this.withRetry('webhook', event, () => this.postWebhook(event)));
    await Promise.all(jobs);
  }

  private async withRetry(
    channel: AlertDelivery['channel'],
    event: SecurityEvent,
    attempt: () => Promise<void>,
  ): Promise<void> {
    let lastError = '';
    for (let i = 0; i <= RETRY_DELAYS_MS.length; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[i - 1]).unref());
      try {
        await attempt();
        this.remember({ channel, eventId: event.id, ok: true, attempts: i + 1 });
        return;
      } catch (err) {
        lastError = (err as Error).message;
      }
    }
    this.remember({ channel, eventId: event.id, ok: false, attempts: RETRY_DELAYS_MS.length + 1, error: lastError });
    this.logger.error(`alert ${channel} for ${event.eventType} (${event.id}) failed after retries: ${lastError}`);
  }

  private remember(d: AlertDelivery): void {
    this.deliveries.push(d);
    if (this.deliveries.length > 200) this.deliveries.shift();
  }

  private async sendMail(event: SecurityEvent): Promise<void> {
    await this.mail.send({
      to: this.config.alerts.emailTo!,
      subject: `Hearth CRM security alert: ${event.eventType}`,
      text: `${this.summary(event)}\n\nDetails: ${JSON.stringify(event.details, null, 2)}\nUser agent: ${event.userAgent ?? '-'}\nEvent id: ${event.id}\n`,
    });
  }

  private async postWebhook(event: SecurityEvent): Promise<void> {
    const payload = {
      text: `:rotating_light: ${this.summary(event)}`,
      attachments: [
        {
          color: event.severity === 'critical' ? '#d00000' : '#e07000',
          fields: [
            { title: 'Event', value: event.eventType, short: true },
            { title: 'Severity', value: event.severity, short: true },
            { title: 'IP', value: event.ipAddress ?? '-', short: true },
            { title: 'User', value: event.userId ?? '-', short: true },
          ],
          ts: Math.floor(event.createdAt.getTime() / 1000),
        },
      ],
      event: {
        id: event.id,
        type: event.eventType,
        severity: event.severity,
        teamId: event.teamId,
        userId: event.userId,
        ip: event.ipAddress,
        details: event.details,
      },
    };
    const res = await fetch(this.config.alerts.webhookUrl!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      // ALERT_WEBHOOK_URL's port was checked at start (WEBHOOK_ALLOWED_PORTS); a redirect must not lead elsewhere.
      redirect: 'error',
    });
    if (!res.ok) throw new Error(`webhook answered ${res.status}`);
  }

  /** Give pending deliveries a moment on shutdown. */
  async onApplicationShutdown(): Promise<void> {
    if (this.inFlight.size)
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, 3_000).unref())]);
  }
}
