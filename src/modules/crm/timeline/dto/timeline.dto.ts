import { ApiExtraModels, ApiProperty, getSchemaPath } from '@nestjs/swagger';
import { PaginationQuery } from '../../../../common/pagination/pagination-query.dto';
import { ActivityResponse } from '../../activities/dto/activity.dto';
import { AppointmentResponse } from '../../appointments/dto/appointment.dto';
import { TaskResponse } from '../../tasks/dto/task.dto';
import { TIMELINE_KINDS, type TimelineKind } from '../timeline.service';

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

@ApiExtraModels(ActivityResponse, AppointmentResponse, TaskResponse, TimelineChange)
export class TimelineItemResponse {
  @ApiProperty({ enum: TIMELINE_KINDS }) kind: TimelineKind;
  @ApiProperty({
    format: 'date-time',
    description: 'activity: occurredAt; appointment: startsAt; task: dueAt, else createdAt; change: when it was made',
  })
  at: string;
  @ApiProperty({
    description: 'The entry as its own GET returns it (activity, appointment, task), or the change',
    oneOf: [
      { $ref: getSchemaPath(ActivityResponse) },
      { $ref: getSchemaPath(AppointmentResponse) },
      { $ref: getSchemaPath(TaskResponse) },
      { $ref: getSchemaPath(TimelineChange) },
    ],
  })
  data: Record<string, unknown>;
}
