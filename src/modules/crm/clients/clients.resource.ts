import { defineCrmEntry } from '../common/crm-resource.entry';
import { clientsDefinition } from './clients.definition';
import { ClientsService } from './clients.service';
import { ClientExportQuery, ClientListQuery, ClientResponse, CreateClientDto, UpdateClientDto } from './dto/client.dto';

export const clientsResource = defineCrmEntry({
  definition: clientsDefinition,
  dtos: {
    create: CreateClientDto,
    update: UpdateClientDto,
    listQuery: ClientListQuery,
    exportQuery: ClientExportQuery,
    response: ClientResponse,
  },
  service: ClientsService,
});
