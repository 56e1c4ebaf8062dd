import { Injectable } from '@nestjs/common';
import { AppException } from '../../../common/http/app.exception';
import { Page } from '../../../common/http/envelope';
import { keyset } from '../../../common/pagination/keyset';
import { DEFAULT_PAGE_SIZE } from '../../../common/pagination/pagination-query.dto';
import { type Actor } from '../../../common/security/principal';
import { utcIsoSql } from '../../../database/sql-time';
import { actorScope, TeamScope } from '../../../database/team-scope';
import { type AuditResourceType } from '../../audit/audit-chain';
import { ActivitiesService } from '../activities/activities.service';
import { AppointmentsService } from '../appointments/appointments.service';
import { TASK_TIMELINE_AT } from '../tasks/tasks.definition';
import { TasksService } from '../tasks/tasks.service';

export const TIMELINE_RESOURCES = ['clients', 'leads', 'listings', 'escrows'] as const;
export type TimelineResource = (typeof TIMELINE_RESOURCES)[number];

export const TIMELINE_KINDS = ['activity', 'appointment', 'task', 'change'] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

export interface TimelineItem {
  kind: TimelineKind;
  /** ISO-8601 UTC. */
  at: string;
  data: Record<string, unknown>;
}

interface Source {
  table: string;
  label: string;
  auditType: AuditResourceType;
  /** The link column of activities and tasks (and of appointments, where they have one). */
  column: string;
  /** Appointments link to clients and leads only. */
  appointments: boolean;
}

const SOURCES: Record<TimelineResource, Source> = {
  clients: { table: 'clients', label: 'Client', auditType: 'client', column: 'client_id', appointments: true },
  leads: { table: 'leads', label: 'Lead', auditType: 'lead', column: 'lead_id', appointments: true },
  listings: { table: 'listings', label: 'Listing', auditType: 'listing', column: 'listing_id', appointments: false },
  escrows: { table: 'escrows', label: 'Escrow', auditType: 'escrow', column: 'escrow_id', appointments: false },
};

/**
 * One record's history, newest first: its activities (at occurredAt), appointments (at startsAt), tasks (at
 * dueAt, else createdAt) and field changes from the audit trail (at the change). Future-dated entries (a
 * meeting next week) come first, as on a CRM's "upcoming" strip.
 *
 * One UNION ALL statement ordered by (at, id) and cut by the shared keyset helper, run in the caller's
 * TeamScope: the tables' row policies drop what the caller may not see (an appointment assigned to a colleague
 * under 'assigned' visibility, anything in the trash). The record itself is looked up in the same round trip;
 * invisible, trashed or another team's is a 404.
 */
@Injectable()
export class TimelineService {
  constructor(
    private readonly teamScope: TeamScope,
    private readonly activities: ActivitiesService,
    private readonly appointments: AppointmentsService,
    private readonly tasks: TasksService,
  ) {}

  async timeline(
    actor: Actor,
    resource: TimelineResource,
    id: string,
    query: { limit?: number; cursor?: string },
  ): Promise<Page<TimelineItem>> {
    const scope = actorScope(actor);
    const source = SOURCES[resource];
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const params: unknown[] = [scope.teamId, id];

    // Each branch: kind, at, id, data (the entry in its API shape, as GET /v1/<resource>/:id would show it).
    const record = (kind: TimelineKind, table: string, select: string, at: string, column: string) =>
      `SELECT '${kind}'::text AS kind, s._at AS at, s.id, to_jsonb(s) - '_at' AS data
         FROM (SELECT ${select}, ${at} AS _at FROM ${table} WHERE team_id = $1 AND ${column} = $2) s`;
    const branches = [
      record('activity', 'activities', this.activities.apiSelectList, 'occurred_at', source.column),
      ...(source.appointments
        ? [record('appointment', 'appointments', this.appointments.apiSelectList, 'starts_at', source.column)]
        : []),
      record('task', 'tasks', this.tasks.apiSelectList, TASK_TIMELINE_AT, source.column),
      `SELECT 'change'::text, created_at, id,
              jsonb_build_object('id', id, 'userId', user_id, 'apiKeyId', api_key_id,
                                 'old', old_values, 'new', new_values)
         FROM audit_log
        WHERE team_id = $1 AND resource_type = '${source.auditType}' AND resource_id = $2 AND action = 'UPDATE'`,
    ];
    // The cursor belongs to this record's timeline: one from another record or list is refused.
    const page = keyset(params, {
      key: 'at',
      cast: 'timestamptz',
      desc: true,
      scope: `timeline:${resource}:${id}`,
      limit,
      cursor: query.cursor,
    });
    const sql = `SELECT kind, id, data, ${utcIsoSql('at', 'ms')} AS at_iso, ${page.select}
        FROM (${branches.join('\n UNION ALL \n')}) entries
       ${page.where ? `WHERE ${page.where}` : ''} ${page.tail}`;

    const [found = [], rows = []] = await this.teamScope.batch<Record<string, unknown>>(scope, [
      { sql: `SELECT 1 AS found FROM ${source.table} WHERE team_id = $1 AND id = $2`, params: [scope.teamId, id] },
      { sql, params },
    ]);
    if (found.length === 0) throw AppException.notFound(source.label);
    const { items, nextCursor } = page.finish(
      rows as Array<{ id: string; kind: TimelineKind; at_iso: string; data: Record<string, unknown> }>,
    );
    return new Page(
      items.map((r) => ({ kind: r.kind, at: r.at_iso, data: r.data })),
      { limit, nextCursor },
    );
  }
}
