import { defineCrmEntry } from '../common/crm-resource.entry';
import { listingsDefinition } from './listings.definition';
import { ListingsService } from './listings.service';
import {
  ListingExportQuery,
  ListingListQuery,
  ListingResponse,
  CreateListingDto,
  UpdateListingDto,
} from './dto/listing.dto';

export const listingsResource = defineCrmEntry({
  definition: listingsDefinition,
  dtos: {
    create: CreateListingDto,
    update: UpdateListingDto,
    listQuery: ListingListQuery,
    exportQuery: ListingExportQuery,
    response: ListingResponse,
  },
  service: ListingsService,
});
