import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';
import { ChangeOutbox, type OutboxChange } from '../../common/events/change-outbox';
import { crmCatalogue } from '../../common/resources/crm-catalogue';
import { queryRows } from '../../database/query-rows';
import { WEBHOOK_CHANGE_VERBS, subscriptionsMatching, textArrayLiteral } from './entities/webhook.entity';

/** The hooks of a team that want an event type (`$team`, `$match` placeholders). */
function matchingHooks(team: string, match: string): string {
  return `SELECT w.id FROM webhooks w WHERE w.team_id = ${team}::uuid AND w.active AND w.events && ${match}::text[]`;
}

/**
 * The transactional outbox: the events of a change are written by the change's own statement (withAudit's
 * CTEs), only when the team has an active hook that wants them — decided inside that statement, so there is
 * no cache to go stale and no window between the change and the check — with one delivery per such hook.
 * Set-based: one statement changing N rows writes N events. The delivery insert notifies the dispatchers at
 * commit (trigger); a rollback leaves nothing behind.
 */
@Injectable()
export class WebhookOutbox extends ChangeOutbox {
  changeCtes(change: OutboxChange, param: (value: unknown) => string): string {
    const verb = WEBHOOK_CHANGE_VERBS[change.action];
    // Only CRM records emit events, under their catalogue's webhook type.
    const record = crmCatalogue.byAuditType(change.resourceType);
    if (!verb || !record) return '';
    const type = `${record.webhookType}.${verb}`;
    const team = param(change.teamId);
    const match = param(textArrayLiteral(subscriptionsMatching(type)));
    const typeParam = param(type);
    const data =
      change.action === 'UPDATE' && change.previousSql
        ? `${change.rowSql} || jsonb_build_object('previous', coalesce(${change.previousSql}, '{}'::jsonb))`
        : change.rowSql;
    return `,
      webhook_outbox_events AS (
        INSERT INTO webhook_events (id, team_id, type, data)
        SELECT gen_random_uuid(), ${team}::uuid, ${typeParam}, ${data}
          FROM changed
         WHERE EXISTS (${matchingHooks(team, match)})
        RETURNING id
      ),
      webhook_outbox_deliveries AS (
        INSERT INTO webhook_deliveries (team_id, webhook_id, event_id)
        SELECT ${team}::uuid, hook.id, event.id
          FROM webhook_outbox_events event CROSS JOIN (${matchingHooks(team, match)}) hook
      )`;
  }

  async emit(manager: EntityManager, teamId: string, type: string, data: Record<string, unknown>): Promise<void> {
    await queryRows(
      manager,
      `WITH event AS (
         INSERT INTO webhook_events (team_id, type, data)
         SELECT $1::uuid, $2, $3::jsonb WHERE EXISTS (${matchingHooks('$1', '$4')})
         RETURNING id
       )
       INSERT INTO webhook_deliveries (team_id, webhook_id, event_id)
       SELECT $1::uuid, hook.id, event.id FROM event CROSS JOIN (${matchingHooks('$1', '$4')}) hook`,
      [teamId, type, JSON.stringify(data), textArrayLiteral(subscriptionsMatching(type))],
    );
  }
}
