import { ApiExtraModels, ApiProperty, getSchemaPath } from '@nestjs/swagger';
import { type Type } from '@nestjs/common';
import { PaginationQuery } from '../../../../common/pagination/pagination-query.dto';

export class TimelineQuery extends PaginationQuery {}

/** A field change of the record, from its audit trail. */
export class TimelineChange {
  @ApiProperty({ format: 'uuid', description: 'The audit entry' }) id: string;
  @ApiProperty({ format: 'uuid', nullable: true, description: 'Who changed it (a user)' }) userId: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, description: 'Who changed it (an API key)' }) apiKeyId: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The changed fields before' })
  old: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The changed fields after' })
  new: Record<string, unknown>;
}

/**
 * The item of every timeline, for the entry resources of the catalogue: `kind` is an entry's audit type
 * (or `change`), `data` its API shape.
 */
export function timelineItemResponse(entries: Array<{ kind: string; response: Type<object> }>): Type<object> {
  @ApiExtraModels(...entries.map((e) => e.response), TimelineChange)
  class TimelineItemResponse {
    @ApiProperty({ enum: [...entries.map((e) => e.kind), 'change'] }) kind: string;
    @ApiProperty({
      format: 'date-time',
      description: 'When the entry happens (each entry resource says which of its fields); change: when it was made',
    })
    at: string;
    @ApiProperty({
      description: 'The entry as its own GET returns it, or the change',
      oneOf: [...entries.map((e) => ({ $ref: getSchemaPath(e.response) })), { $ref: getSchemaPath(TimelineChange) }],
    })
    data: Record<string, unknown>;
  }
  return TimelineItemResponse;
}
