import { IntersectionType, PartialType } from '@nestjs/swagger';
import { CrmExportQuery, CrmListQuery } from '../../common/crm-list-query.dto';
import { CrmRecordResponse } from '../../common/crm-record.response';
import {
  OptionalDate,
  OptionalEnum,
  OptionalMoney,
  OptionalReference,
  OptionalText,
  QueryEnum,
  QueryUuid,
  RequiredText,
  OptionalAssignee,
} from '../../common/crm-fields';
import { ESCROW_SORTS, escrowsDefinition } from '../escrows.definition';
import { ESCROW_STATUSES, EscrowStatus } from '../escrow.entity';

export class CreateEscrowDto {
  @RequiredText(500) propertyAddress: string;
  @OptionalText(100, 'Unique within your team') escrowNumber?: string | null;
  @OptionalMoney('Purchase price') purchasePrice?: string | number | null;
  @OptionalEnum(ESCROW_STATUSES, 'Defaults to open') status?: EscrowStatus | null;
  @OptionalDate() openedAt?: string | null;
  @OptionalDate('Not before openedAt') closingDate?: string | null;
  @OptionalReference('client') clientId?: string | null;
  @OptionalReference('listing') listingId?: string | null;
  @OptionalAssignee() assignedTo?: string | null;
}

export class UpdateEscrowDto extends PartialType(CreateEscrowDto) {}

export class EscrowListQuery extends CrmListQuery(ESCROW_SORTS, escrowsDefinition.searchFields) {
  @QueryEnum(ESCROW_STATUSES) status?: EscrowStatus;
  @QueryUuid('Escrows of this client') clientId?: string;
}

export class EscrowExportQuery extends CrmExportQuery(EscrowListQuery) {}

export class EscrowResponse extends IntersectionType(CrmRecordResponse, CreateEscrowDto) {}
