import { Body, Controller, HttpCode, Post, Query, type Type } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { ApiDataResponse, ApiErrorResponses } from '../../../common/http/api-responses.decorator';
import { CurrentActor, Permission } from '../../../common/security/decorators';
import { Actor } from '../../../common/security/principal';
import { AppointmentsService } from '../appointments/appointments.service';
import { appointmentsDefinition } from '../appointments/appointments.definition';
import { CreateAppointmentDto } from '../appointments/dto/appointment.dto';
import { ClientsService } from '../clients/clients.service';
import { clientsDefinition } from '../clients/clients.definition';
import { CreateClientDto } from '../clients/dto/client.dto';
import { EscrowsService } from '../escrows/escrows.service';
import { escrowsDefinition } from '../escrows/escrows.definition';
import { CreateEscrowDto } from '../escrows/dto/escrow.dto';
import { LeadsService } from '../leads/leads.service';
import { leadsDefinition } from '../leads/leads.definition';
import { CreateLeadDto } from '../leads/dto/lead.dto';
import { ListingsService } from '../listings/listings.service';
import { listingsDefinition } from '../listings/listings.definition';
import { CreateListingDto } from '../listings/dto/listing.dto';
import { CrmImportService, type DedupeKey } from './crm-import.service';
import { type CrmResourceDefinition } from './crm-resource.definition';
import { type CrmResourceService } from './crm-resource.service';
import { ParamTypes } from './param-types.decorator';

export class ImportQuery {
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'Validate only: nothing is written' })
  @IsOptional()
  @IsIn(['true', 'false'])
  dryRun?: 'true' | 'false';

  @ApiPropertyOptional({
    enum: ['email', 'phone'],
    description:
      'clients and leads only: a row whose email (case-insensitive) or phone (E.164, default country US) matches a record of your team updates it with its non-empty cells',
  })
  @IsOptional()
  @IsIn(['email', 'phone'])
  dedupeBy?: DedupeKey;
}

export class ImportResultResponse {
  @ApiProperty({ description: 'Records created (or that would be, with dryRun)' }) created: number;
  @ApiProperty({ description: 'Records updated through dedupeBy (or that would be, with dryRun)' }) updated: number;
  @ApiProperty({ description: 'True when nothing was written' }) dryRun: boolean;
}

/**
 * POST /v1/<resource>/import for one CRM resource: beside the resource's own controller (same path prefix),
 * the CSV counterpart of its POST (same permission, same validation through `createDto`).
 */
export function CrmImportController(def: CrmResourceDefinition, createDto: Type<object>) {
  const plural = def.resource;
  abstract class CrmResourceImportController {
    protected constructor(
      protected readonly service: CrmResourceService,
      protected readonly importer: CrmImportService,
    ) {}

    @Post('import')
    @HttpCode(200)
    @Permission(def.resource, 'write')
    @ApiOperation({
      summary: `Import ${plural} from CSV`,
      description:
        `A \`text/csv\` body (UTF-8, optional BOM, CRLF or LF, RFC 4180 quotes) whose header row names API fields of ${plural} ` +
        '(the fields of POST; an unknown column is 400). Each row is checked like a POST body; an empty cell is an absent field. ' +
        'All or nothing: any bad row is `400 VALIDATION_ERROR` with `details: [{row, field, message}]` (`row` counts data rows from 1, ' +
        'the header is row 0) and nothing is written; otherwise one transaction, one audit entry per record. ' +
        'At most IMPORT_MAX_ROWS rows and IMPORT_MAX_BYTES bytes (else 413). Cells are stored as given, formulas included ' +
        '(the CSV export neutralises them). With `dedupeBy`, rows of the file sharing a key are merged (a later non-empty cell wins).',
    })
    @ApiConsumes('text/csv')
    @ApiBody({
      required: true,
      description: 'The CSV file',
      schema: { type: 'string', example: 'firstName,lastName,email\nAda,Lovelace,ada@example.com\n' },
    })
    @ApiDataResponse(ImportResultResponse, { description: 'Imported (or validated, with dryRun=true)' })
    @ApiErrorResponses(
      [400, 'VALIDATION_ERROR: malformed CSV, unknown column, or invalid rows (details: row, field, message)'],
      401,
      403,
      [413, 'PAYLOAD_TOO_LARGE: over IMPORT_MAX_BYTES or IMPORT_MAX_ROWS'],
    )
    @ParamTypes(Object, ImportQuery, Object)
    import(@Body() body: unknown, @Query() query: ImportQuery, @CurrentActor() actor: Actor) {
      return this.importer.import(this.service, createDto, actor, body, {
        dryRun: query.dryRun === 'true',
        dedupeBy: query.dedupeBy,
      });
    }
  }
  return CrmResourceImportController;
}

@ApiTags('clients')
@Controller('clients')
export class ClientsImportController extends CrmImportController(clientsDefinition, CreateClientDto) {
  constructor(service: ClientsService, importer: CrmImportService) {
    super(service, importer);
  }
}

@ApiTags('leads')
@Controller('leads')
export class LeadsImportController extends CrmImportController(leadsDefinition, CreateLeadDto) {
  constructor(service: LeadsService, importer: CrmImportService) {
    super(service, importer);
  }
}

@ApiTags('appointments')
@Controller('appointments')
export class AppointmentsImportController extends CrmImportController(appointmentsDefinition, CreateAppointmentDto) {
  constructor(service: AppointmentsService, importer: CrmImportService) {
    super(service, importer);
  }
}

@ApiTags('escrows')
@Controller('escrows')
export class EscrowsImportController extends CrmImportController(escrowsDefinition, CreateEscrowDto) {
  constructor(service: EscrowsService, importer: CrmImportService) {
    super(service, importer);
  }
}

@ApiTags('listings')
@Controller('listings')
export class ListingsImportController extends CrmImportController(listingsDefinition, CreateListingDto) {
  constructor(service: ListingsService, importer: CrmImportService) {
    super(service, importer);
  }
}

/** Every import controller, for CrmModule. */
export const CRM_IMPORT_CONTROLLERS = [
  ClientsImportController,
  LeadsImportController,
  AppointmentsImportController,
  EscrowsImportController,
  ListingsImportController,
];
