import { ApiProperty, IntersectionType, PartialType } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { CrmExportQuery, CrmListQuery } from '../../common/crm-list-query.dto';
import { CrmRecordResponse } from '../../common/crm-record.response';
import {
  OptionalAssignee,
  OptionalDateTime,
  OptionalInt,
  OptionalNotes,
  OptionalReference,
  OptionalText,
  QueryDateTime,
  QueryEnum,
  QueryUuid,
} from '../../common/crm-fields';
import { ACTIVITY_SORTS, activitiesDefinition } from '../activities.definition';
import { ACTIVITY_TYPES, ActivityType } from '../activity.entity';

const LINK_NOTE = 'At least one of clientId, leadId, listingId, escrowId is required';

export class CreateActivityDto {
  @ApiProperty({ enum: ACTIVITY_TYPES })
  @IsIn(ACTIVITY_TYPES)
  type: ActivityType;

  @OptionalText(200) subject?: string | null;
  @OptionalNotes(10_000) body?: string | null;
  @OptionalDateTime('When it happened; defaults to now. May be in the past or the future (a planned meeting).')
  occurredAt?: string | null;
  @OptionalInt(0, 100_000) durationMinutes?: number | null;
  @OptionalText(200, 'Free text: "left voicemail", "offer accepted"') outcome?: string | null;
  @OptionalReference(`client. ${LINK_NOTE}`) clientId?: string | null;
  @OptionalReference(`lead. ${LINK_NOTE}`) leadId?: string | null;
  @OptionalReference(`listing. ${LINK_NOTE}`) listingId?: string | null;
  @OptionalReference(`escrow. ${LINK_NOTE}`) escrowId?: string | null;
  @OptionalAssignee() assignedTo?: string | null;
}

/** null clears a link, but an activity keeps at least one (else 400). */
export class UpdateActivityDto extends PartialType(CreateActivityDto) {}

export class ActivityListQuery extends CrmListQuery(ACTIVITY_SORTS, activitiesDefinition.searchFields) {
  @QueryEnum(ACTIVITY_TYPES) type?: ActivityType;
  @QueryUuid('Activities about this client') clientId?: string;
  @QueryUuid('Activities about this lead') leadId?: string;
  @QueryUuid('Activities about this listing') listingId?: string;
  @QueryUuid('Activities about this escrow') escrowId?: string;
  @QueryUuid('Activities logged by this user') authorId?: string;
  @QueryDateTime('Activities that occurred at or after this time') from?: string;
  @QueryDateTime('Activities that occurred at or before this time') to?: string;
}

export class ActivityExportQuery extends CrmExportQuery(ActivityListQuery) {}

export class ActivityResponse extends IntersectionType(CrmRecordResponse, CreateActivityDto) {
  @ApiProperty({ format: 'uuid', nullable: true, description: 'The user who logged it (null when an API key did)' })
  authorId: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, description: 'The API key that logged it (null when a user did)' })
  apiKeyId: string | null;
}
