import { ApiProperty, IntersectionType, OmitType, PartialType } from '@nestjs/swagger';
import { CrmExportQuery, CrmListQuery } from '../../common/crm-list-query.dto';
import { CrmRecordResponse } from '../../common/crm-record.response';
import {
  OptionalEmail,
  OptionalEnum,
  OptionalNotes,
  OptionalPhone,
  OptionalText,
  QueryEnum,
  QueryText,
  RequiredText,
  OptionalAssignee,
} from '../../common/crm-fields';
import { LEAD_SORTS, leadsDefinition } from '../leads.definition';
import { LEAD_STATUSES, LEAD_TYPES, LeadStatus, LeadType, SETTABLE_LEAD_STATUSES } from '../lead.entity';

export class CreateLeadDto {
  @RequiredText(100) firstName: string;
  @RequiredText(100) lastName: string;
  @OptionalEmail() email?: string | null;
  @OptionalPhone() phone?: string | null;
  @OptionalEnum(LEAD_TYPES) leadType?: LeadType | null;
  @OptionalEnum(SETTABLE_LEAD_STATUSES, 'Defaults to new; `converted` is set by POST /v1/leads/{id}/convert only')
  leadStatus?: LeadStatus | null;
  @OptionalText(100, 'Where the lead came from (website, referral, open house, …)') source?: string | null;
  @OptionalNotes() notes?: string | null;
  @OptionalAssignee() assignedTo?: string | null;
}

export class UpdateLeadDto extends PartialType(CreateLeadDto) {}

export class LeadListQuery extends CrmListQuery(LEAD_SORTS, leadsDefinition.searchFields) {
  @QueryEnum(LEAD_TYPES) leadType?: LeadType;
  @QueryEnum(LEAD_STATUSES) leadStatus?: LeadStatus;
  @QueryText(100, 'Exact source, case-insensitive') source?: string;
}

export class LeadExportQuery extends CrmExportQuery(LeadListQuery) {}

export class LeadResponse extends IntersectionType(
  CrmRecordResponse,
  OmitType(CreateLeadDto, ['leadStatus'] as const),
) {
  @ApiProperty({ enum: LEAD_STATUSES }) leadStatus: LeadStatus;
  @ApiProperty({ format: 'uuid', nullable: true, description: 'The client created from this lead' }) convertedClientId:
    string | null;
  @ApiProperty({ format: 'date-time', nullable: true }) convertedAt: string | null;
}
