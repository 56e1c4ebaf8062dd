import { IntersectionType, PartialType } from '@nestjs/swagger';
import { CrmExportQuery, CrmListQuery } from '../../common/crm-list-query.dto';
import { CrmRecordResponse } from '../../common/crm-record.response';
import {
  OptionalDateTime,
  OptionalEnum,
  OptionalNotes,
  OptionalReference,
  OptionalText,
  QueryDateTime,
  QueryEnum,
  QueryUuid,
  RequiredDateTime,
  RequiredText,
  OptionalAssignee,
} from '../../common/crm-fields';
import { APPOINTMENT_SORTS, appointmentsDefinition } from '../appointments.definition';
import { APPOINTMENT_STATUSES, AppointmentStatus } from '../appointment.entity';

export class CreateAppointmentDto {
  @RequiredText(200) title: string;
  @RequiredDateTime() startsAt: string;
  @OptionalDateTime('Not before startsAt') endsAt?: string | null;
  @OptionalText(500) location?: string | null;
  @OptionalEnum(APPOINTMENT_STATUSES, 'Defaults to scheduled') status?: AppointmentStatus | null;
  @OptionalReference('client') clientId?: string | null;
  @OptionalReference('lead') leadId?: string | null;
  @OptionalNotes() notes?: string | null;
  @OptionalAssignee() assignedTo?: string | null;
}

export class UpdateAppointmentDto extends PartialType(CreateAppointmentDto) {}

export class AppointmentListQuery extends CrmListQuery(APPOINTMENT_SORTS, appointmentsDefinition.searchFields) {
  @QueryEnum(APPOINTMENT_STATUSES) status?: AppointmentStatus;
  @QueryDateTime('Appointments starting at or after this time') from?: string;
  @QueryDateTime('Appointments starting at or before this time') to?: string;
  @QueryUuid('Appointments with this client') clientId?: string;
}

export class AppointmentExportQuery extends CrmExportQuery(AppointmentListQuery) {}

export class AppointmentResponse extends IntersectionType(CrmRecordResponse, CreateAppointmentDto) {}
