import { ApiProperty, IntersectionType, PartialType } from '@nestjs/swagger';
import { CrmExportQuery, CrmListQuery } from '../../common/crm-list-query.dto';
import { CrmRecordResponse } from '../../common/crm-record.response';
import {
  OptionalEmail,
  OptionalEnum,
  OptionalNotes,
  OptionalPhone,
  OptionalText,
  QueryEnum,
  RequiredText,
  OptionalAssignee,
} from '../../common/crm-fields';
import { CLIENT_SORTS, clientsDefinition } from '../clients.definition';
import { CLIENT_STATUSES, CLIENT_TYPES, ClientStatus, ClientType } from '../client.entity';

export class CreateClientDto {
  @RequiredText(100) firstName: string;
  @RequiredText(100) lastName: string;
  @OptionalEmail() email?: string | null;
  @OptionalPhone() phone?: string | null;
  @OptionalEnum(CLIENT_TYPES) clientType?: ClientType | null;
  @OptionalEnum(CLIENT_STATUSES, 'Defaults to active') status?: ClientStatus | null;
  @OptionalNotes() notes?: string | null;
  @OptionalText(500) address?: string | null;
  @OptionalAssignee() assignedTo?: string | null;
}

export class UpdateClientDto extends PartialType(CreateClientDto) {}

export class ClientListQuery extends CrmListQuery(CLIENT_SORTS, clientsDefinition.searchFields) {
  @QueryEnum(CLIENT_TYPES) clientType?: ClientType;
  @QueryEnum(CLIENT_STATUSES) status?: ClientStatus;
}

export class ClientExportQuery extends CrmExportQuery(ClientListQuery) {}

export class ClientResponse extends IntersectionType(CrmRecordResponse, CreateClientDto) {
  @ApiProperty({ format: 'uuid', nullable: true, description: 'The lead this client was converted from' }) leadId:
    string | null;
}
