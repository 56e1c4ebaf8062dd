import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiDataResponse, ApiErrorResponses } from '../../../common/http/api-responses.decorator';
import { UuidPipe } from '../../../common/http/uuid.pipe';
import { CurrentActor, Permission } from '../../../common/security/decorators';
import { Actor } from '../../../common/security/principal';
import { ClientResponse } from '../clients/dto/client.dto';
import { CrmController } from '../common/crm-resource.controller';
import { CreateLeadDto, LeadExportQuery, LeadListQuery, LeadResponse, UpdateLeadDto } from './dto/lead.dto';
import { leadsDefinition } from './leads.definition';
import { LeadsService } from './leads.service';

@ApiTags('leads')
@Controller('leads')
export class LeadsController extends CrmController(leadsDefinition, {
  create: CreateLeadDto,
  update: UpdateLeadDto,
  listQuery: LeadListQuery,
  exportQuery: LeadExportQuery,
  response: LeadResponse,
}) {
  constructor(private readonly leads: LeadsService) {
    super(leads);
  }

  @Post(':id/convert')
  @HttpCode(201)
  @Permission('leads', 'write')
  @ApiOperation({
    summary: 'Convert a lead into a client',
    description:
      'Creates the client (which keeps `leadId`) and sets the lead to `converted`, in one transaction. A second conversion is 409.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiDataResponse(ClientResponse, { status: 201, description: 'The new client' })
  @ApiErrorResponses([400, 'VALIDATION_ERROR: the id is not a UUID'], 401, 403, 404, [
    409,
    'CONFLICT: the lead is already converted',
  ])
  convert(@Param('id', UuidPipe) id: string, @CurrentActor() actor: Actor) {
    return this.leads.convert(actor, id);
  }
}
