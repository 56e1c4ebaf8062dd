import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsUUID } from 'class-validator';
import { PaginationQuery } from '../../../common/pagination/pagination-query.dto';
import { AUDIT_ACTIONS, AUDIT_RESOURCE_TYPES, AuditAction, AuditResourceType } from '../audit-chain';

export class AuditLogQuery extends PaginationQuery {
  // A live list (the CRM catalogue's types): the type is given, not guessed from the values at load.
  @ApiPropertyOptional({ type: 'string', enum: AUDIT_RESOURCE_TYPES as string[] })
  @IsOptional()
  @IsIn(AUDIT_RESOURCE_TYPES as string[])
  resourceType?: AuditResourceType;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  resourceId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Changes made by this user' })
  @IsOptional()
  @IsUUID()
  userId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Changes made with this API key' })
  @IsOptional()
  @IsUUID()
  apiKeyId?: string;

  @ApiPropertyOptional({ enum: AUDIT_ACTIONS })
  @IsOptional()
  @IsIn(AUDIT_ACTIONS)
  action?: AuditAction;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries at or after this time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries at or before this time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}
