import { Inject, Injectable } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { AppException } from '../../common/http/app.exception';
import { Page } from '../../common/http/envelope';
import { keyset } from '../../common/pagination/keyset';
import { DEFAULT_PAGE_SIZE, PaginationQuery } from '../../common/pagination/pagination-query.dto';
import { Actor, actorUserId } from '../../common/security/principal';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { oneRow, queryRows } from '../../database/query-rows';
import { utcIsoSql } from '../../database/sql-time';
import { TeamScope } from '../../database/team-scope';
import { AuditService } from '../audit/audit.service';
import { DataKeys } from '../data-keys/data-keys.service';
import { SecurityEventsService, eventContext } from '../security-events/security-events.service';
import { CreateWebhookDto, UpdateWebhookDto } from './dto/webhook.dto';
import { DeliveryView, TEST_EVENT, WebhookView, textArrayLiteral } from './entities/webhook.entity';
import { type TargetPolicy, TargetRefused, vetTarget } from './ssrf-guard';

/** A hook's API shape, made by the SELECT (also what its audit rows hold: never the secret). */
export const WEBHOOK_VIEW_COLUMNS = `id, url, description, events, active,
  ${utcIsoSql('failing_since', 'ms')} AS "failingSince", ${utcIsoSql('deactivated_at', 'ms')} AS "deactivatedAt",
  ${utcIsoSql('created_at', 'ms')} AS "createdAt", ${utcIsoSql('updated_at', 'ms')} AS "updatedAt"`;

const DELIVERY_VIEW_COLUMNS = `d.id, d.event_id AS "eventId", e.type AS "eventType", d.status, d.attempts,
  d.last_status_code AS "lastStatusCode", d.last_error AS "lastError",
  ${utcIsoSql('d.last_attempt_at', 'ms')} AS "lastAttemptAt", ${utcIsoSql('d.next_attempt_at', 'ms')} AS "nextAttemptAt",
  ${utcIsoSql('d.created_at', 'ms')} AS "createdAt"`;

/** The associated data binding a sealed secret to its hook and team (a copied ciphertext does not open). */
export function secretAad(teamId: string, webhookId: string): string {
  return `webhook:${teamId}:${webhookId}`;
}

/** `whsec_` + base64 of 32 random bytes (Standard Webhooks secret format). */
function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * Webhook management: hooks are created, changed and removed by team admins (bearer, 2FA, fresh auth), each
 * change with its audit row in the same statement. The signing secret is shown once and stored sealed.
 */
@Injectable()
export class WebhooksService {
  readonly policy: TargetPolicy;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly teamScope: TeamScope,
    private readonly audit: AuditService,
    private readonly events: SecurityEventsService,
    private readonly dataKeys: DataKeys,
  ) {
    this.policy = {
      allowPrivate: config.webhooks.allowPrivateTargets,
      httpsOnly: config.isProduction,
      allowedPorts: config.webhooks.allowedPorts,
    };
  }

  openSecret(sealed: string, teamId: string, webhookId: string): string {
    return this.dataKeys.open(sealed, secretAad(teamId, webhookId), {
      table: 'webhooks',
      column: 'secret_sealed',
      row: webhookId,
    });
  }

  private teamOf(actor: Actor): string {
    const teamId = actor.principal?.teamId;
    if (!teamId) throw AppException.unauthenticated();
    return teamId;
  }

  private async checkUrl(url: string): Promise<void> {
    try {
      await vetTarget(url, this.policy);
    } catch (err) {
      if (!(err instanceof TargetRefused)) throw err;
      throw AppException.validation(`Invalid input: ${err.message}`, [{ field: 'url', errors: [err.message] }]);
    }
  }

  private static distinct(events: string[]): string[] {
    return [...new Set(events)];
  }

  async list(actor: Actor): Promise<WebhookView[]> {
    const teamId = this.teamOf(actor);
    return this.teamScope.rows<WebhookView>(teamId, {
      sql: `SELECT ${WEBHOOK_VIEW_COLUMNS} FROM webhooks WHERE team_id = $1 ORDER BY created_at DESC, id DESC`,
      params: [teamId],
    });
  }

  async get(actor: Actor, id: string): Promise<WebhookView> {
    const teamId = this.teamOf(actor);
    const [row] = await this.teamScope.rows<WebhookView>(teamId, {
      sql: `SELECT ${WEBHOOK_VIEW_COLUMNS} FROM webhooks WHERE team_id = $1 AND id = $2`,
      params: [teamId, id],
    });
    if (!row) throw AppException.notFound('Webhook');
    return row;
  }

  async create(actor: Actor, body: CreateWebhookDto): Promise<WebhookView & { secret: string }> {
    const teamId = this.teamOf(actor);
    await this.checkUrl(body.url);
    const id = randomUUID();
    const secret = newSecret();
    const events = WebhooksService.distinct(body.events);
    const statement = this.audit.withAudit(
      actor,
      teamId,
      `INSERT INTO webhooks (id, team_id, url, description, events, secret_sealed, created_by)
       VALUES ($1, $2, $3, $4, $5::text[], $6, $7) RETURNING ${WEBHOOK_VIEW_COLUMNS}`,
      [
        id,
        teamId,
        body.url,
        body.description ?? null,
        textArrayLiteral(events),
        this.dataKeys.seal(secret, secretAad(teamId, id)),
        actorUserId(actor),
      ],
      { action: 'CREATE', resourceType: 'webhook', oldValues: null, newValues: 'changed' },
    );
    const hook = oneRow(await this.teamScope.rows<WebhookView>(teamId, statement), 'webhook insert');
    await this.events.record(
      'webhook_created',
      'medium',
      eventContext(actor, { webhookId: id, url: hook.url, events: hook.events }),
    );
    return { ...hook, secret };
  }

  async update(actor: Actor, id: string, body: UpdateWebhookDto): Promise<WebhookView> {
    const teamId = this.teamOf(actor);
    const changes: Partial<Pick<WebhookView, 'url' | 'description' | 'events' | 'active'>> = {};
    if (body.url !== undefined) changes.url = body.url;
    if (body.description !== undefined) changes.description = body.description;
    if (body.events !== undefined) changes.events = WebhooksService.distinct(body.events);
    if (body.active !== undefined) changes.active = body.active;
    const fields = Object.keys(changes) as (keyof typeof changes)[];
    if (fields.length === 0) throw AppException.validation('Invalid input: send at least one field to change');
    if (changes.url !== undefined) await this.checkUrl(changes.url);
    const { hook, deactivated } = await this.teamScope.run(teamId, async (m) => {
      const [old] = await queryRows<WebhookView>(
        m,
        `SELECT ${WEBHOOK_VIEW_COLUMNS} FROM webhooks WHERE team_id = $1 AND id = $2 FOR UPDATE`,
        [teamId, id],
      );
      if (!old) throw AppException.notFound('Webhook');
      const params: unknown[] = [teamId, id];
      const sets = ['updated_at = now()'];
      const set = (column: string, value: unknown, cast = '') => {
        params.push(value);
        sets.push(`${column} = $${params.length}${cast}`);
      };
      if (changes.url !== undefined) set('url', changes.url);
      if (changes.description !== undefined) set('description', changes.description);
      if (changes.events !== undefined) set('events', textArrayLiteral(changes.events), '::text[]');
      if (changes.active !== undefined) {
        set('active', changes.active);
        // Reactivating starts a fresh failure count; deactivating records when.
        if (changes.active && !old.active) sets.push('failing_since = NULL', 'deactivated_at = NULL');
        if (!changes.active && old.active) sets.push('deactivated_at = now()');
      }
      const { sql, params: all } = this.audit.withAudit(
        actor,
        teamId,
        `UPDATE webhooks SET ${sets.join(', ')} WHERE team_id = $1 AND id = $2 RETURNING ${WEBHOOK_VIEW_COLUMNS}`,
        params,
        {
          action: 'UPDATE',
          resourceType: 'webhook',
          oldValues: Object.fromEntries(fields.map((f) => [f, old[f]])),
          newValues: { fields },
        },
      );
      const row = oneRow(await queryRows<WebhookView>(m, sql, all as unknown[]), 'webhook update');
      return { hook: row, deactivated: old.active && !row.active };
    });
    if (deactivated) {
      await this.events.record(
        'webhook_deactivated',
        'medium',
        eventContext(actor, { webhookId: id, url: hook.url, reason: 'deactivated by an admin' }),
      );
    }
    return hook;
  }

  async remove(actor: Actor, id: string): Promise<{ id: string; deleted: true }> {
    const teamId = this.teamOf(actor);
    const statement = this.audit.withAudit(
      actor,
      teamId,
      `DELETE FROM webhooks WHERE team_id = $1 AND id = $2 RETURNING ${WEBHOOK_VIEW_COLUMNS}`,
      [teamId, id],
      { action: 'DELETE', resourceType: 'webhook', oldValues: 'changed', newValues: null },
    );
    const [row] = await this.teamScope.rows<WebhookView>(teamId, statement);
    if (!row) throw AppException.notFound('Webhook');
    return { id: row.id, deleted: true };
  }

  /** The hook's deliveries, newest first, keyset-paginated on (created_at, id). */
  async deliveries(actor: Actor, id: string, query: PaginationQuery): Promise<Page<DeliveryView>> {
    const teamId = this.teamOf(actor);
    await this.get(actor, id);
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const params: unknown[] = [teamId, id];
    const page = keyset(params, {
      key: 'd.created_at',
      cast: 'timestamptz',
      desc: true,
      scope: `webhook-deliveries:${id}`,
      limit,
      cursor: query.cursor,
      id: 'd.id',
    });
    const where = ['d.team_id = $1', 'd.webhook_id = $2', ...(page.where ? [page.where] : [])];
    const rows = await this.teamScope.rows<DeliveryView & { _k?: string | null }>(teamId, {
      sql: `SELECT ${DELIVERY_VIEW_COLUMNS}, ${page.select}
              FROM webhook_deliveries d JOIN webhook_events e ON e.team_id = d.team_id AND e.id = d.event_id
             WHERE ${where.join(' AND ')} ${page.tail}`,
      params,
    });
    const { items, nextCursor } = page.finish(rows);
    return new Page(items, { limit, nextCursor });
  }

  /** A new delivery of the same event (same webhook-id) to the hook, due now. */
  async redeliver(actor: Actor, id: string, deliveryId: string): Promise<DeliveryView> {
    const teamId = this.teamOf(actor);
    const [row] = await this.teamScope.rows<DeliveryView>(teamId, {
      sql: `WITH again AS (
              INSERT INTO webhook_deliveries (team_id, webhook_id, event_id)
              SELECT d.team_id, d.webhook_id, d.event_id FROM webhook_deliveries d
               WHERE d.team_id = $1 AND d.webhook_id = $2 AND d.id = $3
              RETURNING *
            )
            SELECT ${DELIVERY_VIEW_COLUMNS} FROM again d JOIN webhook_events e ON e.team_id = d.team_id AND e.id = d.event_id`,
      params: [teamId, id, deliveryId],
    });
    if (!row) throw AppException.notFound('Delivery');
    return row;
  }

  /** A `webhook.test` event for this hook alone (whatever it subscribes to). */
  async test(actor: Actor, id: string): Promise<DeliveryView> {
    const teamId = this.teamOf(actor);
    const data = { webhookId: id, message: 'This is a test event from Hearth CRM.' };
    const [row] = await this.teamScope.rows<DeliveryView>(teamId, {
      sql: `WITH hook AS (SELECT id FROM webhooks WHERE team_id = $1 AND id = $2),
            event AS (
              INSERT INTO webhook_events (team_id, type, data) SELECT $1::uuid, $3, $4::jsonb FROM hook RETURNING *
            ),
            delivery AS (
              INSERT INTO webhook_deliveries (team_id, webhook_id, event_id)
              SELECT $1::uuid, hook.id, event.id FROM hook, event RETURNING *
            )
            SELECT ${DELIVERY_VIEW_COLUMNS} FROM delivery d JOIN event e ON e.id = d.event_id`,
      params: [teamId, id, TEST_EVENT, JSON.stringify(data)],
    });
    if (!row) throw AppException.notFound('Webhook');
    return row;
  }
}
