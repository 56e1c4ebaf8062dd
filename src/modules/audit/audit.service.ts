import { Injectable, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { ChangeOutbox } from '../../common/events/change-outbox';
import { Page } from '../../common/http/envelope';
import { keyset } from '../../common/pagination/keyset';
import { DEFAULT_PAGE_SIZE } from '../../common/pagination/pagination-query.dto';
import { Actor, actorApiKeyId, actorUserId } from '../../common/security/principal';
import { oneRow, queryRows } from '../../database/query-rows';
import { ScopedStatement, TeamScope } from '../../database/team-scope';
import { AUDIT_ACTIONS, AUDIT_RESOURCE_TYPES, AuditAction, AuditResourceType } from './audit-chain';
import { AuditLogQuery } from './dto/audit-log-query.dto';

export interface AuditEntry {
  action: AuditAction;
  resourceType: AuditResourceType;
  resourceId: string | null;
  /** Never secrets: callers pass the public shape of the record (no password hashes, no key hashes). */
  oldValues?: Record<string, unknown> | null;
  newValues?: Record<string, unknown> | null;
}

export interface AuditLogEntry {
  id: string;
  lane: number;
  seq: number;
  action: AuditAction;
  resourceType: AuditResourceType;
  resourceId: string | null;
  oldValues: Record<string, unknown> | null;
  newValues: Record<string, unknown> | null;
  userId: string | null;
  apiKeyId: string | null;
  ip: string | null;
  userAgent: string | null;
  createdAt: Date;
  hash: string;
}

const LIST_COLUMNS = `id, lane, seq::text AS seq, action, resource_type AS "resourceType", resource_id AS "resourceId",
  old_values AS "oldValues", new_values AS "newValues", user_id AS "userId", api_key_id AS "apiKeyId",
  ip_address AS ip, user_agent AS "userAgent", created_at AS "createdAt", hash`;

/** The columns a writer supplies; the audit_log_link trigger adds lane, seq, prev_hash, hash and created_at. */
const WRITER_COLUMNS =
  'id, team_id, action, resource_type, resource_id, user_id, api_key_id, ip_address, user_agent, old_values, new_values';

/** Values as the jsonb text stored for them (Dates as ISO strings, undefined keys dropped). */
function auditJson(values: Record<string, unknown> | null | undefined): string | null {
  return values === null || values === undefined ? null : JSON.stringify(values);
}

/** How the audit row of a one-statement change takes its values from the changed row (the CTE `changed`). */
export interface AuditOfChange {
  action: AuditAction;
  resourceType: AuditResourceType;
  /**
   * old_values: the changed row itself (a delete), these values (an update), none (a create), or — for a
   * set-based update of many rows — each row's own old values, which the change statement returns as a jsonb
   * column (`RETURNING …, <old row as jsonb> AS "_previous"`) limited to `fields`; that column is not part of
   * the record (new values, webhook data).
   */
  oldValues: 'changed' | Record<string, unknown> | { previousColumn: string; fields: string[] } | null;
  /** new_values: the changed row (a create), only these of its fields (an update), or none (a delete). */
  newValues: 'changed' | { fields: string[] } | null;
}

/**
 * Writes audit rows inside the caller's transaction (so a change and its audit row commit or roll back
 * together) and reads a team's trail. The database links each row into its team's hash chain (the
 * audit_log_link trigger: lanes, seq, hashes), so writers only say what happened.
 */
@Injectable()
export class AuditService {
  /** Every resource type the trail records (the CRM catalogue's, then users, keys, hooks, the team). */
  static resourceTypes(): readonly string[] {
    return AUDIT_RESOURCE_TYPES;
  }

  static actions(): readonly string[] {
    return AUDIT_ACTIONS;
  }

  constructor(
    private readonly teamScope: TeamScope,
    /** Webhook events of the change, written by the same statement (absent: nothing else is written). */
    @Optional() private readonly outbox?: ChangeOutbox,
  ) {}

  /** Appends one row. `manager` must be the transaction that made the change. */
  async record(
    manager: EntityManager,
    actor: Actor,
    entry: AuditEntry,
    teamId: string | undefined = actor.principal?.teamId,
  ): Promise<{ id: string; seq: string; hash: string }> {
    if (!teamId) throw new Error('AuditService.record: no team for this audit entry');
    const rows = await queryRows<{ id: string; seq: string; hash: string }>(
      manager,
      `INSERT INTO audit_log (${WRITER_COLUMNS})
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb)
       RETURNING id, seq::text AS seq, hash`,
      [
        randomUUID(),
        teamId,
        entry.action,
        entry.resourceType,
        entry.resourceId,
        actorUserId(actor),
        actorApiKeyId(actor),
        actor.ip || null,
        actor.userAgent,
        auditJson(entry.oldValues),
        auditJson(entry.newValues),
      ],
    );
    return oneRow(rows, 'audit insert');
  }

  /**
   * One statement making a change and its audit row: `changeSql` is an INSERT, UPDATE or DELETE … RETURNING
   * the record's API shape (with an `id`), its parameters `params`; the result is the changed rows. Nothing
   * is audited when nothing changed (no row returned).
   */
  withAudit(
    actor: Actor,
    teamId: string,
    changeSql: string,
    params: readonly unknown[],
    audit: AuditOfChange,
  ): ScopedStatement {
    const all = [...params];
    const param = (value: unknown) => {
      all.push(value);
      return `$${all.length}`;
    };
    const fieldsParam = (fields: string[]) => param(`{${fields.map((f) => `"${f}"`).join(',')}}`);
    let rowSql = 'to_jsonb(changed)';
    let oldSql: string;
    if (audit.oldValues === 'changed') oldSql = rowSql;
    else if (audit.oldValues === null) oldSql = 'NULL';
    else if ('previousColumn' in audit.oldValues && typeof audit.oldValues.previousColumn === 'string') {
      const column = audit.oldValues.previousColumn;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(column)) throw new Error('withAudit: bad previousColumn');
      rowSql = `(to_jsonb(changed) - '${column}')`;
      oldSql = `(SELECT jsonb_object_agg(k, v) FROM jsonb_each(changed."${column}") AS e(k, v) WHERE k = ANY(${fieldsParam(audit.oldValues.fields as string[])}::text[]))`;
    } else oldSql = `${param(auditJson(audit.oldValues))}::jsonb`;
    const newSql =
      audit.newValues === 'changed'
        ? rowSql
        : audit.newValues === null
          ? 'NULL'
          : `(SELECT jsonb_object_agg(k, v) FROM jsonb_each(to_jsonb(changed)) AS e(k, v) WHERE k = ANY(${param(`{${audit.newValues.fields.map((f) => `"${f}"`).join(',')}}`)}::text[]))`;
    const outboxCtes =
      this.outbox?.changeCtes(
        {
          action: audit.action,
          resourceType: audit.resourceType,
          teamId,
          previousSql: audit.action === 'UPDATE' ? oldSql : null,
          rowSql,
        },
        param,
      ) ?? '';
    const sql = `WITH changed AS (${changeSql}),
      audited AS (
        INSERT INTO audit_log (${WRITER_COLUMNS})
        SELECT gen_random_uuid(), ${param(teamId)}::uuid, ${param(audit.action)}, ${param(audit.resourceType)}, changed.id,
               ${param(actorUserId(actor))}::uuid, ${param(actorApiKeyId(actor))}::uuid, ${param(actor.ip || null)}, ${param(actor.userAgent)},
               ${oldSql}, ${newSql}
          FROM changed
      )${outboxCtes}
      SELECT * FROM changed`;
    return { sql, params: all };
  }

  /** The caller's team's trail, newest first, keyset-paginated on (created_at, id). */
  async list(actor: Actor, query: AuditLogQuery): Promise<Page<AuditLogEntry>> {
    const teamId = actor.principal!.teamId;
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const params: unknown[] = [teamId];
    const where = ['team_id = $1'];
    const add = (sql: string, ...values: unknown[]) => {
      let text = sql;
      for (const value of values) {
        params.push(value);
        text = text.replace('?', `$${params.length}`);
      }
      where.push(text);
    };
    if (query.resourceType) add('resource_type = ?', query.resourceType);
    if (query.resourceId) add('resource_id = ?', query.resourceId);
    if (query.userId) add('user_id = ?', query.userId);
    if (query.apiKeyId) add('api_key_id = ?', query.apiKeyId);
    if (query.action) add('action = ?', query.action);
    if (query.from) add('created_at >= ?::timestamptz', query.from);
    if (query.to) add('created_at <= ?::timestamptz', query.to);
    const page = keyset(params, {
      key: 'created_at',
      cast: 'timestamptz',
      desc: true,
      scope: 'audit-log',
      limit,
      cursor: query.cursor,
    });
    if (page.where) where.push(page.where);
    const rows = await this.teamScope.rows<Omit<AuditLogEntry, 'seq'> & { seq: string; _k?: string | null }>(teamId, {
      sql: `SELECT ${LIST_COLUMNS}, ${page.select} FROM audit_log WHERE ${where.join(' AND ')} ${page.tail}`,
      params,
    });
    const { items: found, nextCursor } = page.finish(rows);
    const items = found.map((r) => ({ ...r, seq: Number(r.seq) }));
    return new Page(items, { limit, nextCursor });
  }
}
