import { Controller } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CrmController } from '../common/crm-resource.controller';
import { escrowsDefinition } from './escrows.definition';
import { EscrowsService } from './escrows.service';
import { CreateEscrowDto, EscrowExportQuery, EscrowListQuery, EscrowResponse, UpdateEscrowDto } from './dto/escrow.dto';

@ApiTags('escrows')
@Controller('escrows')
export class EscrowsController extends CrmController(escrowsDefinition, {
  create: CreateEscrowDto,
  update: UpdateEscrowDto,
  listQuery: EscrowListQuery,
  exportQuery: EscrowExportQuery,
  response: EscrowResponse,
}) {
  constructor(service: EscrowsService) {
    super(service);
  }
}
