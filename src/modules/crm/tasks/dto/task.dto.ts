import { ApiProperty, IntersectionType, PartialType } from '@nestjs/swagger';
import { CrmExportQuery, CrmListQuery } from '../../common/crm-list-query.dto';
import { CrmRecordResponse } from '../../common/crm-record.response';
import {
  OptionalAssignee,
  OptionalDateTime,
  OptionalEnum,
  OptionalNotes,
  OptionalReference,
  QueryDateTime,
  QueryEnum,
  QueryUuid,
  RequiredText,
} from '../../common/crm-fields';
import { TASK_SORTS, tasksDefinition } from '../tasks.definition';
import { TASK_PRIORITIES, TASK_STATUSES, TaskPriority, TaskStatus } from '../task.entity';

export class CreateTaskDto {
  @RequiredText(200) title: string;
  @OptionalDateTime(
    'When it is due. The assignee is mailed TASK_REMINDER_MINUTES before (again when dueAt moves). A past dueAt is allowed: the task is overdue at once.',
  )
  dueAt?: string | null;
  @OptionalEnum(TASK_STATUSES, 'Defaults to open; done sets completedAt') status?: TaskStatus | null;
  @OptionalEnum(TASK_PRIORITIES, 'Defaults to normal') priority?: TaskPriority | null;
  @OptionalReference('client') clientId?: string | null;
  @OptionalReference('lead') leadId?: string | null;
  @OptionalReference('listing') listingId?: string | null;
  @OptionalReference('escrow') escrowId?: string | null;
  @OptionalNotes() notes?: string | null;
  @OptionalAssignee() assignedTo?: string | null;
}

export class UpdateTaskDto extends PartialType(CreateTaskDto) {}

export class TaskListQuery extends CrmListQuery(TASK_SORTS, tasksDefinition.searchFields) {
  @QueryEnum(TASK_STATUSES) status?: TaskStatus;
  @QueryEnum(TASK_PRIORITIES) priority?: TaskPriority;
  @QueryDateTime('Tasks due strictly before this time') dueBefore?: string;
  @QueryDateTime('Tasks due at or after this time') dueAfter?: string;
  @QueryEnum(['true', 'false'], 'true: open tasks past their dueAt; false: every other task') overdue?:
    'true' | 'false';
  @QueryUuid('Tasks linked to this client') clientId?: string;
  @QueryUuid('Tasks linked to this lead') leadId?: string;
  @QueryUuid('Tasks linked to this listing') listingId?: string;
  @QueryUuid('Tasks linked to this escrow') escrowId?: string;
}

export class TaskExportQuery extends CrmExportQuery(TaskListQuery) {}

export class TaskResponse extends IntersectionType(CrmRecordResponse, CreateTaskDto) {
  @ApiProperty({ format: 'date-time', nullable: true, description: 'Set by the server when status becomes done' })
  completedAt: string | null;
}
