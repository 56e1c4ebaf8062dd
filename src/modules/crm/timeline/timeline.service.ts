import { Injectable } from '@nestjs/common';
import { AppException } from '../../../common/http/app.exception';
import { Page } from '../../../common/http/envelope';
import { keyset } from '../../../common/pagination/keyset';
import { DEFAULT_PAGE_SIZE } from '../../../common/pagination/pagination-query.dto';
import { type Actor } from '../../../common/security/principal';
import { utcIsoSql } from '../../../database/sql-time';
import { actorScope, TeamScope } from '../../../database/team-scope';
import { CrmResourceRegistry } from '../common/crm-registry';
import { type CrmResourceService } from '../common/crm-resource.service';

/** An entry's kind is its resource's audit type (`activity`), or `change` for a field change. */
export type TimelineKind = string;

export interface TimelineItem {
  kind: TimelineKind;
  /** ISO-8601 UTC. */
  at: string;
  data: Record<string, unknown>;
}

interface Source {
  service: CrmResourceService;
  /** The link column of the entries (`client_id`). */
  column: string;
  /** The entry resources whose table has that column (appointments link to clients and leads only). */
  entries: Array<{ kind: string; table: string; service: CrmResourceService; at: string }>;
}

/**
 * One record's history, newest first: the entries of the resources whose definitions say `timeline: entry`
 * (activities at occurredAt, appointments at startsAt, tasks at dueAt, else createdAt) that link to it, and
 * field changes from the audit trail (at the change). Future-dated entries (a meeting next week) come first,
 * as on a CRM's "upcoming" strip. The records that have a timeline say `timeline: subject`.
 *
 * One UNION ALL statement ordered by (at, id) and cut by the shared keyset helper, run in the caller's
 * TeamScope: the tables' row policies drop what the caller may not see (an appointment assigned to a colleague
 * under 'assigned' visibility, anything in the trash). The record itself is looked up in the same round trip;
 * invisible, trashed or another team's is a 404.
 */
@Injectable()
export class TimelineService {
  private readonly sources = new Map<string, Source>();

  constructor(
    private readonly teamScope: TeamScope,
    private readonly registry: CrmResourceRegistry,
  ) {}

  /** The subject's source, from the registered definitions (built once per resource). */
  private sourceOf(resource: string): Source {
    const cached = this.sources.get(resource);
    if (cached) return cached;
    const service = this.registry.byResource(resource);
    const role = service?.definition.timeline;
    if (!service || role?.role !== 'subject') throw new Error(`${resource} has no timeline`);
    const entries: Source['entries'] = [];
    for (const entry of this.registry.services()) {
      const timeline = entry.definition.timeline;
      if (timeline?.role !== 'entry') continue;
      const metadata = this.teamScope.dataSource.getMetadata(entry.definition.entity);
      if (!metadata.findColumnWithDatabaseName(role.linkColumn)) continue;
      entries.push({
        kind: entry.definition.auditType,
        table: entry.definition.table,
        service: entry,
        at: timeline.at,
      });
    }
    const source = { service, column: role.linkColumn, entries };
    this.sources.set(resource, source);
    return source;
  }

  async timeline(
    actor: Actor,
    resource: string,
    id: string,
    query: { limit?: number; cursor?: string },
  ): Promise<Page<TimelineItem>> {
    const scope = actorScope(actor);
    const source = this.sourceOf(resource);
    const def = source.service.definition;
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const params: unknown[] = [scope.teamId, id];

    // Each branch: kind, at, id, data (the entry in its API shape, as GET /v1/<resource>/:id would show it).
    const branches = [
      ...source.entries.map(
        (e) =>
          `SELECT '${e.kind}'::text AS kind, s._at AS at, s.id, to_jsonb(s) - '_at' AS data
             FROM (SELECT ${e.service.apiSelectList}, ${e.at} AS _at FROM ${e.table}
                    WHERE team_id = $1 AND ${source.column} = $2) s`,
      ),
      `SELECT 'change'::text, created_at, id,
              jsonb_build_object('id', id, 'userId', user_id, 'apiKeyId', api_key_id,
                                 'old', old_values, 'new', new_values)
         FROM audit_log
        WHERE team_id = $1 AND resource_type = '${def.auditType}' AND resource_id = $2 AND action = 'UPDATE'`,
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
      { sql: `SELECT 1 AS found FROM ${def.table} WHERE team_id = $1 AND id = $2`, params: [scope.teamId, id] },
      { sql, params },
    ]);
    if (found.length === 0) throw AppException.notFound(def.label);
    const { items, nextCursor } = page.finish(
      rows as Array<{ id: string; kind: TimelineKind; at_iso: string; data: Record<string, unknown> }>,
    );
    return new Page(
      items.map((r) => ({ kind: r.kind, at: r.at_iso, data: r.data })),
      { limit, nextCursor },
    );
  }
}
