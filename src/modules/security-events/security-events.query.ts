import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { queryRows } from '../../database/query-rows';
import { Page } from '../../common/http/envelope';
import { keyset } from '../../common/pagination/keyset';
import { DEFAULT_PAGE_SIZE } from '../../common/pagination/pagination-query.dto';
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

/** Reads of the security event log for a team's admins: filters, newest first, keyset pages. */
@Injectable()
export class SecurityEventsQuery {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async list(teamId: string, q: ListSecurityEventsQuery): Promise<Page<unknown>> {
    const limit = q.limit ?? DEFAULT_PAGE_SIZE;
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
    const page = keyset(params, {
      key: 'created_at',
      cast: 'timestamptz',
      desc: true,
      scope: 'security-events',
      limit,
      cursor: q.cursor,
    });
    if (page.where) where.push(page.where);
    const rows = await queryRows<EventRow & { _k?: string | null }>(
      this.dataSource.manager,
      `SELECT id, event_type, severity, user_id, api_key_id, ip_address, user_agent, details, created_at, ${page.select}
         FROM security_events WHERE ${where.join(' AND ')} ${page.tail}`,
      params,
    );
    const { items, nextCursor } = page.finish(rows);
    return new Page(
      items.map((r) => ({
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
      { limit, nextCursor },
    );
  }
}
