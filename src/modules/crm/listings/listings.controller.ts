import { Controller } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CrmController } from '../common/crm-resource.controller';
import { listingsDefinition } from './listings.definition';
import { ListingsService } from './listings.service';
import {
  CreateListingDto,
  ListingExportQuery,
  ListingListQuery,
  ListingResponse,
  UpdateListingDto,
} from './dto/listing.dto';

@ApiTags('listings')
@Controller('listings')
export class ListingsController extends CrmController(listingsDefinition, {
  create: CreateListingDto,
  update: UpdateListingDto,
  listQuery: ListingListQuery,
  exportQuery: ListingExportQuery,
  response: ListingResponse,
}) {
  constructor(service: ListingsService) {
    super(service);
  }
}
