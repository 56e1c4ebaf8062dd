import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiDataResponse, ApiErrorResponses } from '../../../common/http/api-responses.decorator';
import { UuidPipe } from '../../../common/http/uuid.pipe';
import { CurrentActor, Permission } from '../../../common/security/decorators';
import { Actor } from '../../../common/security/principal';
import { ClientResponse } from '../clients/dto/client.dto';
import { leadsDefinition } from './leads.definition';
import { LeadsService } from './leads.service';

/** POST /v1/leads/:id/convert: the one lead route beyond the generic ones (CrmModule builds those). */
@ApiTags(leadsDefinition.resource)
@Controller(leadsDefinition.resource)
export class LeadConversionController {
  constructor(private readonly leads: LeadsService) {}

  @Post(':id/convert')
  @HttpCode(201)
  @Permission(leadsDefinition.resource, 'write')
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
