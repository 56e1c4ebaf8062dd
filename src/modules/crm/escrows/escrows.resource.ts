import { defineCrmEntry } from '../common/crm-resource.entry';
import { escrowsDefinition } from './escrows.definition';
import { EscrowsService } from './escrows.service';
import { EscrowExportQuery, EscrowListQuery, EscrowResponse, CreateEscrowDto, UpdateEscrowDto } from './dto/escrow.dto';

export const escrowsResource = defineCrmEntry({
  definition: escrowsDefinition,
  dtos: {
    create: CreateEscrowDto,
    update: UpdateEscrowDto,
    listQuery: EscrowListQuery,
    exportQuery: EscrowExportQuery,
    response: EscrowResponse,
  },
  service: EscrowsService,
});
