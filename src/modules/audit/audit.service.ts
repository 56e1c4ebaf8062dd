import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { Page } from '../../common/http/envelope';
import { decodeCursor, encodeCursor, invalidCursor } from '../../common/pagination/keyset-cursor';
import { DEFAULT_PAGE_SIZE } from '../../common/pagination/pagination-query.dto';
import { Actor, actorApiKeyId, actorUserId } from '../../common/security/principal';
import { queryRows } from '../../database/query-rows';
import { TeamScope } from '../../database/team-scope';
import { AuditAction, AuditResourceType, GENESIS_HASH, auditLinkHash, normaliseAuditValues } from './audit-chain';
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

const LIST_COLUMNS = `id, seq::text AS seq, action, resource_type AS "resourceType", resource_id AS "resourceId",
  old_values AS "oldValues", new_values AS "newValues", user_id AS "userId", api_key_id AS "apiKeyId",
  ip_address AS ip, user_agent AS "userAgent", created_at AS "createdAt", hash`;

/**
 * Writes audit rows inside the caller's transaction (so a change and its audit row commit or roll back
 * together) and reads a team's trail.
 */
@Injectable()
export class AuditService {
  constructor(private readonly teamScope: TeamScope) {}

  /**
   * Appends one link to the team's chain. `manager` must be the transaction that made the change. Bumping the
   * team's chain head row-locks it until that transaction ends, so concurrent writers of one team queue here
   * (and only here) and sequence numbers have no gaps.
   */
  async record(manager: EntityManager, actor: Actor, entry: AuditEntry, teamId: string | undefined = actor.principal?.teamId): Promise<{ id: string; seq: string; hash: string }> {
    if (!teamId) throw new Error('AuditService.record: no team for this audit entry');
    const [head] = await queryRows<{ seq: string; hash: string }>(
      manager,
      `INSERT INTO audit_chain_heads AS h (team_id, seq, hash) VALUES ($1, 1, $2)
       ON CONFLICT (team_id) DO UPDATE SET seq = h.seq + 1, updated_at = now()
       RETURNING seq::text AS seq, hash`,
      [teamId, GENESIS_HASH],
    );
    const fields = {
      id: randomUUID(),
      teamId,
      seq: head.seq,
      action: entry.action,
      resourceType: entry.resourceType,
      resourceId: entry.resourceId,
      userId: actorUserId(actor),
      apiKeyId: actorApiKeyId(actor),
      ip: actor.ip || null,
      userAgent: actor.userAgent,
      oldValues: normaliseAuditValues(entry.oldValues),
      newValues: normaliseAuditValues(entry.newValues),
      // Taken after the head lock, so created_at follows seq order within a team.
      createdAt: new Date().toISOString(),
    };
    const hash = auditLinkHash(head.hash, fields);
    await queryRows(
      manager,
      `WITH link AS (
         INSERT INTO audit_log (id, team_id, seq, action, resource_type, resource_id, user_id, api_key_id, ip_address, user_agent,
                                old_values, new_values, prev_hash, hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb, $13, $14, $15::timestamptz)
       )
       UPDATE audit_chain_heads SET hash = $14 WHERE team_id = $2`,
      [
        fields.id,
        teamId,
        fields.seq,
        fields.action,
        fields.resourceType,
        fields.resourceId,
        fields.userId,
        fields.apiKeyId,
        fields.ip,
        fields.userAgent,
        fields.oldValues === null ? null : JSON.stringify(fields.oldValues),
        fields.newValues === null ? null : JSON.stringify(fields.newValues),
        head.hash,
        hash,
        fields.createdAt,
      ],
    );
    return { id: fields.id, seq: fields.seq, hash };
  }

  /** The caller's team's trail, newest first, keyset-paginated on the chain's sequence number. */
  async list(actor: Actor, query: AuditLogQuery): Promise<Page<AuditLogEntry>> {
    const teamId = actor.principal!.teamId;
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const params: unknown[] = [teamId];
    const where = ['team_id = $1'];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (query.resourceType) add('resource_type = ?', query.resourceType);
    if (query.resourceId) add('resource_id = ?', query.resourceId);
    if (query.userId) add('user_id = ?', query.userId);
    if (query.apiKeyId) add('api_key_id = ?', query.apiKeyId);
    if (query.action) add('action = ?', query.action);
    if (query.from) add('created_at >= ?::timestamptz', query.from);
    if (query.to) add('created_at <= ?::timestamptz', query.to);
    if (query.cursor) {
      const { seq } = decodeCursor(query.cursor);
      if (typeof seq !== 'string' || !/^[1-9]\d{0,17}$/.test(seq)) throw invalidCursor();
      add('seq < ?::bigint', seq);
    }
    params.push(limit + 1);
    const rows = await this.teamScope.run(teamId, (m) =>
      queryRows<Omit<AuditLogEntry, 'seq'> & { seq: string }>(m, `SELECT ${LIST_COLUMNS} FROM audit_log WHERE ${where.join(' AND ')} ORDER BY audit_log.seq DESC LIMIT $${params.length}`, params),
    );
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const items = page.map((r) => ({ ...r, seq: Number(r.seq) }));
    const nextCursor = more ? encodeCursor({ seq: page[page.length - 1].seq }) : null;
    return new Page(items, { limit, nextCursor });
  }
}
