import { defineCrmEntry } from '../common/crm-resource.entry';
import { LeadConversionController } from './lead-conversion.controller';
import { leadsDefinition } from './leads.definition';
import { LeadsService } from './leads.service';
import { LeadExportQuery, LeadListQuery, LeadResponse, CreateLeadDto, UpdateLeadDto } from './dto/lead.dto';

export const leadsResource = defineCrmEntry({
  definition: leadsDefinition,
  dtos: {
    create: CreateLeadDto,
    update: UpdateLeadDto,
    listQuery: LeadListQuery,
    exportQuery: LeadExportQuery,
    response: LeadResponse,
  },
  service: LeadsService,
  controllers: [LeadConversionController],
});
