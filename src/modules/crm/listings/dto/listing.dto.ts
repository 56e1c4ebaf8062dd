import { IntersectionType, PartialType } from '@nestjs/swagger';
import { CrmExportQuery, CrmListQuery } from '../../common/crm-list-query.dto';
import { CrmRecordResponse } from '../../common/crm-record.response';
import {
  OptionalDecimal,
  OptionalEnum,
  OptionalInt,
  OptionalMoney,
  OptionalText,
  QueryEnum,
  QueryNumber,
  QueryText,
  RequiredText,
  OptionalAssignee,
} from '../../common/crm-fields';
import { LISTING_SORTS, listingsDefinition } from '../listings.definition';
import { LISTING_STATUSES, ListingStatus } from '../listing.entity';

export class CreateListingDto {
  @RequiredText(500) address: string;
  @OptionalText(100) city?: string | null;
  @OptionalText(50) state?: string | null;
  @OptionalText(20) zip?: string | null;
  @OptionalMoney('Asking price') price?: string | number | null;
  @OptionalInt(0, 1000) bedrooms?: number | null;
  @OptionalDecimal(0, 1000, 1) bathrooms?: number | null;
  @OptionalInt(1, 2_000_000_000) squareFeet?: number | null;
  @OptionalEnum(LISTING_STATUSES, 'Defaults to active') status?: ListingStatus | null;
  @OptionalText(50, 'Unique within your team') mlsNumber?: string | null;
  @OptionalAssignee() assignedTo?: string | null;
}

export class UpdateListingDto extends PartialType(CreateListingDto) {}

export class ListingListQuery extends CrmListQuery(LISTING_SORTS, listingsDefinition.searchFields) {
  @QueryEnum(LISTING_STATUSES) status?: ListingStatus;
  @QueryText(100, 'Exact city, case-insensitive') city?: string;
  @QueryNumber(0, 999_999_999_999.99, 'Price at least') minPrice?: number;
  @QueryNumber(0, 999_999_999_999.99, 'Price at most') maxPrice?: number;
}

export class ListingExportQuery extends CrmExportQuery(ListingListQuery) {}

export class ListingResponse extends IntersectionType(CrmRecordResponse, CreateListingDto) {}
