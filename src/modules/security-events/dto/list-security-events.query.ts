import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional } from 'class-validator';
import { PaginationQuery } from '../../../common/pagination/pagination-query.dto';
import { SECURITY_EVENT_TYPES, SEVERITIES, SecurityEventType, Severity } from '../entities/security-event.entity';

/** Filters of the event log; `limit` (default 25) and `cursor` as every keyset-paginated list. */
export class ListSecurityEventsQuery extends PaginationQuery {
  @ApiPropertyOptional({ enum: SECURITY_EVENT_TYPES })
  @IsOptional()
  @IsIn(SECURITY_EVENT_TYPES)
  eventType?: SecurityEventType;

  @ApiPropertyOptional({ enum: SEVERITIES })
  @IsOptional()
  @IsIn(SEVERITIES)
  severity?: Severity;

  @ApiPropertyOptional({ description: 'ISO-8601 lower bound (inclusive) on createdAt' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'ISO-8601 upper bound (exclusive) on createdAt' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}
