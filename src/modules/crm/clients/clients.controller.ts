import { Controller } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CrmController } from '../common/crm-resource.controller';
import { clientsDefinition } from './clients.definition';
import { ClientsService } from './clients.service';
import { ClientExportQuery, ClientListQuery, ClientResponse, CreateClientDto, UpdateClientDto } from './dto/client.dto';

@ApiTags('clients')
@Controller('clients')
export class ClientsController extends CrmController(clientsDefinition, {
  create: CreateClientDto,
  update: UpdateClientDto,
  listQuery: ClientListQuery,
  exportQuery: ClientExportQuery,
  response: ClientResponse,
}) {
  constructor(service: ClientsService) {
    super(service);
  }
}
