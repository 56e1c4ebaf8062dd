import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { oneRow } from '../../database/query-rows';
import { AppException } from '../../common/http/app.exception';
import { Page } from '../../common/http/envelope';
import { ListSecurityEventsQuery } from './dto/list-security-events.query';

interface EventRow {
  id: string;
  event_type: string;
  severity: string;
  user_id: string | null;
  api_key_id: string | null;
  ip_address: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
  created_at: Date;
}

function encodeCursor(row: EventRow): string {
  return Buffer.from(JSON.stringify([row.created_at.toISOString(), row.id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    if (typeof at !== 'string' || Number.isNaN(Date.parse(at)) || !/^[0-9a-f-]{36}$/i.test(id))
      throw new Error('shape');
    return [at, id];
  } catch {
    throw AppException.validation('cursor is not valid', [{ field: 'cursor', errors: ['cursor is not valid'] }]);
  }
}

/** Reads of the security event log for a team's admins: filters, newest first, keyset pages. */
@Injectable()
export class SecurityEventsQuery {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async list(teamId: string, q: ListSecurityEventsQuery): Promise<Page<unknown>> {
    const limit = q.limit ?? 50;
    const where = ['team_id = $1'];
    const params: unknown[] = [teamId];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (q.eventType) add('event_type = ?', q.eventType);
    if (q.severity) add('severity = ?', q.severity);
    if (q.from) add('created_at >= ?', q.from);
    if (q.to) add('created_at < ?', q.to);
    if (q.cursor) {
      const [at, id] = decodeCursor(q.cursor);
      params.push(at, id);
      where.push(`(created_at, id) < ($${params.length - 1}, $${params.length})`);
    }
    params.push(limit + 1);
    const rows: EventRow[] = await this.dataSource.query(
      `SELECT id, event_type, severity, user_id, api_key_id, ip_address, user_agent, details, created_at
         FROM security_events WHERE ${where.join(' AND ')}
        ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, limit);
    return new Page(
      page.map((r) => ({
        id: r.id,
        eventType: r.event_type,
        severity: r.severity,
        userId: r.user_id,
        apiKeyId: r.api_key_id,
        ip: r.ip_address,
        userAgent: r.user_agent,
        details: r.details,
        createdAt: r.created_at.toISOString(),
      })),
      { limit, nextCursor: rows.length > limit ? encodeCursor(oneRow(page.slice(-1))) : null },
    );
  }
}
