import { Type } from '@nestjs/common';
import { ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { PaginationQuery } from '../../../common/pagination/pagination-query.dto';
import { DEFAULT_SORT } from './crm-resource.definition';
import { QueryAssignee } from './crm-fields';

/** Largest `total` ever counted; with includeTotal=true a list says `total: 10000` meaning "10000 or more". */
export const TOTAL_CAP = 10_000;

export interface CrmListQueryShape {
  limit?: number;
  cursor?: string;
  sort?: string;
  q?: string;
  includeTotal?: 'true' | 'false';
  /** `me`, `none` or a user id (the service turns `me` into the caller's id). */
  assignedTo?: string;
  [filter: string]: unknown;
}

/** The base of each resource's list query: paging, sort (from the resource's allowed list), search, total. */
export function CrmListQuery(sorts: readonly string[], searchFields: readonly string[]): Type<CrmListQueryShape> {
  class ListQuery extends PaginationQuery {
    @ApiPropertyOptional({
      enum: sorts,
      default: DEFAULT_SORT,
      description: 'Sort key; a leading `-` means descending',
    })
    @IsOptional()
    @IsIn(sorts)
    sort?: string;

    @ApiPropertyOptional({
      maxLength: 100,
      description: `Case-insensitive substring search over ${searchFields.join(', ')}`,
    })
    @IsOptional()
    @IsString()
    @IsNotEmpty()
    @MaxLength(100)
    q?: string;

    @ApiPropertyOptional({
      enum: ['true', 'false'],
      default: 'false',
      description: `Also count the matching rows (capped at ${TOTAL_CAP})`,
    })
    @IsOptional()
    @IsIn(['true', 'false'])
    includeTotal?: 'true' | 'false';

    @QueryAssignee()
    assignedTo?: string;
  }
  return ListQuery as Type<CrmListQueryShape>;
}

/** Export takes the list's filters, search and sort, not its paging. */
export function CrmExportQuery<T extends Type<CrmListQueryShape>>(listQuery: T) {
  return OmitType(listQuery as Type<CrmListQueryShape>, ['limit', 'cursor', 'includeTotal'] as const);
}
