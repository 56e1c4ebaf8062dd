import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { type PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { Actor } from '../../common/security/principal';
import { JobRuns } from '../../common/metrics/job-runs';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { queryRows } from '../../database/query-rows';
import { utcIsoSql } from '../../database/sql-time';
import { TeamScope } from '../../database/team-scope';
import { AuditService } from '../audit/audit.service';
import { MailService } from '../notifications/mail.service';
import { SecurityEventsService } from '../security-events/security-events.service';
import { UsersRepository } from '../users/users.repository';
import { WEBHOOK_CHANNEL, WebhookView } from './entities/webhook.entity';
import { type SendResult, sendSigned } from './webhook-sender';
import { WEBHOOK_VIEW_COLUMNS, WebhooksService } from './webhooks.service';

/** A poll finds due retries (and anything a missed notification left) within this. */
const POLL_MS = 1_000;
/** Deliveries in flight per instance. */
const CONCURRENCY = 8;
/** How long shutdown waits for attempts in flight before cutting them short (they are then due at once). */
const SHUTDOWN_GRACE_MS = 3_000;
/** A hook failing every attempt for this long is deactivated. */
const DEACTIVATE_AFTER = '24 hours';
const LISTENER_RETRY_MS = 2_000;
const MAX_ERROR_CHARS = 1_200;

interface ClaimedDelivery {
  id: string;
  team_id: string;
  webhook_id: string;
  event_id: string;
  attempts: number;
  type: string;
  data: Record<string, unknown>;
  event_at: string;
  url: string;
  secret_sealed: string;
  /** How late this attempt is: now minus when it was due. */
  lag_seconds: number;
}

/** Spans of delivery attempts (no-ops unless OTEL_EXPORTER_OTLP_ENDPOINT is set). */
const tracer = trace.getTracer('hearth-crm/webhooks');

/** The dispatcher acts for nobody: its audit rows and events carry no user, key or IP. */
const SYSTEM: Actor = { ip: '', userAgent: null };

/**
 * Sends the outbox, off the request path, on every instance: each instance claims due deliveries with
 * `FOR UPDATE SKIP LOCKED` and leases them (next_attempt_at pushed past the attempt's timeout) in one
 * statement, so several instances share the work and each delivery is attempted by one of them. A
 * notification on commit (trigger on the delivery insert) wakes it at once; a one-second poll covers retries
 * and anything missed while the listener was down. An instance killed mid-attempt leaves a lease that expires
 * after the timeout plus a margin: the delivery is then retried (at least once, same webhook-id).
 *
 * Failure: retried with exponential backoff (WEBHOOK_RETRY_BASE_SECONDS × 2^(attempt-1)) up to
 * WEBHOOK_MAX_ATTEMPTS, then `failed`. A hook whose attempts have all failed for 24 h is deactivated
 * (`webhook_deactivated`, audit row, mail to the team's admins).
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly inFlight = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();
  private readonly leaseMs: number;
  /** Attempts this instance has made (diagnostics; tests count the share of each instance). */
  attemptsMade = 0;
  private stopped = false;
  private claimFailing = false;
  private running = false;
  private again = false;
  private pollTimer?: NodeJS.Timeout;
  private listener?: Client;
  private listenerTimer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly teamScope: TeamScope,
    private readonly audit: AuditService,
    private readonly events: SecurityEventsService,
    private readonly mail: MailService,
    private readonly users: UsersRepository,
    private readonly webhooks: WebhooksService,
    private readonly jobs: JobRuns,
  ) {
    this.leaseMs = config.webhooks.timeoutMs + 5_000;
  }

  onApplicationBootstrap(): void {
    void this.listen();
    this.pollTimer = setInterval(() => this.poke(), POLL_MS);
    this.pollTimer.unref();
    this.poke();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.listenerTimer) clearTimeout(this.listenerTimer);
    const listener = this.listener;
    this.listener = undefined;
    if (listener) await listener.end().catch(() => undefined);
    if (this.inFlight.size > 0) {
      const grace = new Promise((r) => setTimeout(r, SHUTDOWN_GRACE_MS).unref());
      await Promise.race([Promise.allSettled([...this.inFlight]), grace]);
      // Whatever is still running is cut short and handed back (due now, the attempt not counted).
      this.shutdown.abort();
      await Promise.allSettled([...this.inFlight]);
    }
  }

  /** Look for due deliveries now (a notification, a finished attempt, the poll). */
  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    const started = process.hrtime.bigint();
    // The pass's lag for /metrics: how overdue the most overdue delivery it claimed was (0: none was waiting).
    let lagSeconds = 0;
    let outcome: 'success' | 'failure' = 'success';
    try {
      do {
        this.again = false;
        const free = CONCURRENCY - this.inFlight.size;
        if (free <= 0 || this.stopped) break;
        const claimed = await this.claim(free);
        for (const delivery of claimed) lagSeconds = Math.max(lagSeconds, delivery.lag_seconds);
        for (const delivery of claimed) this.track(this.attempt(delivery));
        if (claimed.length === free) this.again = true;
        if (this.claimFailing) this.logger.log('webhook claims work again');
        this.claimFailing = false;
      } while (this.again && !this.stopped);
    } catch (err) {
      // The database is away (restart, outage): the next poll tries again; said once per outage.
      if (!this.stopped && !this.claimFailing) this.logger.warn(`webhook claim failed: ${(err as Error).message}`);
      this.claimFailing = true;
      outcome = 'failure';
    } finally {
      this.running = false;
      this.jobs.record('webhook-dispatcher', outcome, Number(process.hrtime.bigint() - started) / 1e9, lagSeconds);
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => {
      this.inFlight.delete(work);
      this.poke();
    });
  }

  /** Claims and leases up to `limit` due deliveries of active hooks, oldest due first. */
  private claim(limit: number): Promise<ClaimedDelivery[]> {
    return queryRows<ClaimedDelivery>(
      this.dataSource.manager,
      `WITH due AS (
         SELECT d.id, d.next_attempt_at AS due_at FROM webhook_deliveries d
          WHERE d.status = 'pending' AND d.next_attempt_at <= now()
            AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id AND w.active)
          ORDER BY d.next_attempt_at
          LIMIT $1
          FOR UPDATE OF d SKIP LOCKED
       )
       UPDATE webhook_deliveries d
          SET attempts = d.attempts + 1, last_attempt_at = now(),
              next_attempt_at = now() + $2 * interval '1 millisecond'
         FROM due, webhook_events e, webhooks w
        WHERE d.id = due.id AND e.id = d.event_id AND w.id = d.webhook_id
       RETURNING d.id, d.team_id, d.webhook_id, d.event_id, d.attempts, e.type, e.data,
                 ${utcIsoSql('e.created_at', 'ms')} AS event_at, w.url, w.secret_sealed,
                 greatest(0, extract(epoch FROM clock_timestamp() - due.due_at))::float8 AS lag_seconds`,
      [limit, this.leaseMs],
    );
  }

  /** One attempt in a span of its own: the POST's client span and the bookkeeping statements are its children. */
  private attempt(delivery: ClaimedDelivery): Promise<void> {
    const attributes = {
      'hearth.webhook.id': delivery.webhook_id,
      'hearth.webhook.event_id': delivery.event_id,
      'hearth.webhook.event_type': delivery.type,
      'hearth.webhook.attempt': delivery.attempts,
    };
    return tracer.startActiveSpan('webhook delivery', { attributes }, async (span) => {
      try {
        const result = await this.attemptOnce(delivery);
        if (result.statusCode !== null) span.setAttribute('http.response.status_code', result.statusCode);
        if (!result.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: result.error ?? 'failed' });
      } finally {
        span.end();
      }
    });
  }

  private async attemptOnce(delivery: ClaimedDelivery): Promise<SendResult> {
    this.attemptsMade++;
    let result: SendResult;
    try {
      const secret = this.webhooks.openSecret(delivery.secret_sealed, delivery.team_id, delivery.webhook_id);
      const body = JSON.stringify({ type: delivery.type, timestamp: delivery.event_at, data: delivery.data });
      result = await sendSigned(
        delivery.url,
        secret,
        { id: delivery.event_id, body },
        { policy: this.webhooks.policy, timeoutMs: this.config.webhooks.timeoutMs, signal: this.shutdown.signal },
      );
    } catch (err) {
      result = { ok: false, statusCode: null, error: `could not send: ${(err as Error).message}` };
    }
    try {
      await this.record(delivery, result);
    } catch (err) {
      // The lease runs out and the delivery is attempted again: at least once.
      this.logger.warn(`could not record webhook delivery ${delivery.id}: ${(err as Error).message}`);
    }
    return result;
  }

  /** The delay before the retry that follows failed attempt number `attempts` (1-based). */
  retryDelayMs(attempts: number): number {
    return this.config.webhooks.retryBaseMs * 2 ** (attempts - 1);
  }

  private async record(delivery: ClaimedDelivery, result: SendResult): Promise<void> {
    const mine = 'id = $1 AND attempts = $2 AND status = $3';
    const base = [delivery.id, delivery.attempts, 'pending'];
    if (result.aborted) {
      await queryRows(
        this.dataSource.manager,
        `UPDATE webhook_deliveries SET attempts = attempts - 1, next_attempt_at = now() WHERE ${mine}`,
        base,
      );
      return;
    }
    if (result.ok) {
      await queryRows(
        this.dataSource.manager,
        `WITH done AS (
           UPDATE webhook_deliveries SET status = 'succeeded', last_status_code = $4, last_error = NULL, next_attempt_at = NULL
            WHERE ${mine} RETURNING webhook_id
         )
         UPDATE webhooks SET failing_since = NULL WHERE id IN (SELECT webhook_id FROM done) AND failing_since IS NOT NULL`,
        [...base, result.statusCode],
      );
      return;
    }
    const last = delivery.attempts >= this.config.webhooks.maxAttempts;
    const [hook] = await queryRows<{ overdue: boolean }>(
      this.dataSource.manager,
      `WITH done AS (
         UPDATE webhook_deliveries
            SET status = $4, next_attempt_at = now() + $5::float8 * interval '1 millisecond',
                last_status_code = $6, last_error = $7
          WHERE ${mine} RETURNING webhook_id
       )
       UPDATE webhooks SET failing_since = coalesce(failing_since, now())
        WHERE id IN (SELECT webhook_id FROM done)
       RETURNING active AND failing_since <= now() - interval '${DEACTIVATE_AFTER}' AS overdue`,
      [
        ...base,
        last ? 'failed' : 'pending',
        last ? null : this.retryDelayMs(delivery.attempts), // failed: no next attempt
        result.statusCode,
        (result.error ?? 'failed').slice(0, MAX_ERROR_CHARS),
      ],
    );
    if (hook?.overdue) await this.deactivate(delivery.team_id, delivery.webhook_id);
  }

  /** Turns off a hook that has failed for 24 h (once, whichever instance gets there), then tells the admins. */
  private async deactivate(teamId: string, webhookId: string): Promise<void> {
    const statement = this.audit.withAudit(
      SYSTEM,
      teamId,
      `UPDATE webhooks SET active = false, deactivated_at = now(), updated_at = now()
        WHERE team_id = $1 AND id = $2 AND active RETURNING ${WEBHOOK_VIEW_COLUMNS}`,
      [teamId, webhookId],
      { action: 'UPDATE', resourceType: 'webhook', oldValues: { active: true }, newValues: { fields: ['active'] } },
    );
    const [hook] = await this.teamScope.rows<WebhookView>(teamId, statement);
    if (!hook) return;
    this.logger.warn(`webhook ${webhookId} deactivated after failing for ${DEACTIVATE_AFTER}`);
    await this.events.record('webhook_deactivated', 'high', {
      teamId,
      details: {
        webhookId,
        url: hook.url,
        failingSince: hook.failingSince,
        reason: `every delivery failed for ${DEACTIVATE_AFTER}`,
      },
    });
    const admins = (await this.users.listTeam(teamId)).filter((u) => u.role === 'admin' && !u.disabled);
    if (admins.length === 0) return;
    await this.mail
      .send({
        to: admins.map((u) => u.email),
        subject: 'A webhook was deactivated',
        text:
          `Every delivery to your webhook ${hook.url} has failed since ${hook.failingSince}, so it has been deactivated.\n\n` +
          `Pending events are kept. Fix the receiver, then set the webhook active again (PATCH /v1/webhooks/${webhookId} {"active": true}) ` +
          `and use the deliveries list to redeliver what failed.\n`,
      })
      .catch((err: Error) => this.logger.warn(`could not mail the admins about webhook ${webhookId}: ${err.message}`));
  }

  /** LISTEN on the dispatcher channel with a connection of its own; reconnects while the app runs. */
  private async listen(): Promise<void> {
    if (this.stopped) return;
    const options = this.dataSource.options as PostgresConnectionOptions;
    const client = new Client({
      connectionString: options.url,
      ssl: options.ssl as boolean | undefined,
      application_name: 'hearth-crm-webhooks',
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
    });
    const retry = () => {
      if (this.listener === client) this.listener = undefined;
      client.removeAllListeners('notification');
      client.removeAllListeners('end');
      client.end().catch(() => undefined);
      if (this.stopped || this.listenerTimer) return;
      this.listenerTimer = setTimeout(() => {
        this.listenerTimer = undefined;
        void this.listen();
      }, LISTENER_RETRY_MS);
      this.listenerTimer.unref();
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', () => this.poke());
    try {
      await client.connect();
      await client.query(`LISTEN ${WEBHOOK_CHANNEL}`);
    } catch {
      retry();
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
    // Anything committed while we were not listening.
    this.poke();
  }
}
