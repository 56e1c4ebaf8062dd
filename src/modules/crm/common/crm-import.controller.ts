import { Body, Controller, HttpCode, Inject, Post, Query, type Type } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { ApiDataResponse, ApiErrorResponses } from '../../../common/http/api-responses.decorator';
import { CurrentActor, Permission } from '../../../common/security/decorators';
import { Actor, type CrmResource } from '../../../common/security/principal';
import { CrmImportService } from './crm-import.service';
import { pascalCase } from './crm-resource.controller';
import { type DedupeKey } from './crm-resource.definition';
import { type CrmResourceEntry } from './crm-resource.entry';
import { CrmResourceService } from './crm-resource.service';
import { ParamTypes } from './param-types.decorator';

export class ImportQuery {
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'Validate only: nothing is written' })
  @IsOptional()
  @IsIn(['true', 'false'])
  dryRun?: 'true' | 'false';

  @ApiPropertyOptional({
    enum: ['email', 'phone'],
    description:
      "Only where the import route's description offers it: a row whose email (case-insensitive) or phone (E.164, default country US) matches a record of your team updates it with its non-empty cells",
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
 * POST /v1/<resource>/import for one importable catalogue entry: beside the resource's own controller (same
 * path prefix), the CSV counterpart of its POST (same permission, same validation through its create DTO).
 */
export function crmImportController(entry: CrmResourceEntry): Type {
  const def = entry.definition;
  const plural = def.resource;
  const createDto = entry.dtos.create;
  const dedupe = def.importable?.dedupeKeys ?? [];

  @ApiTags(def.resource)
  @Controller(def.resource)
  class CrmResourceImportController {
    constructor(
      @Inject(entry.service) private readonly service: CrmResourceService,
      private readonly importer: CrmImportService,
    ) {}

    @Post('import')
    @HttpCode(200)
    @Permission(def.resource as CrmResource, 'write')
    @ApiOperation({
      summary: `Import ${plural} from CSV`,
      description:
        `A \`text/csv\` body (UTF-8, optional BOM, CRLF or LF, RFC 4180 quotes) whose header row names API fields of ${plural} ` +
        '(the fields of POST; an unknown column is 400). Each row is checked like a POST body; an empty cell is an absent field. ' +
        'All or nothing: any bad row is `400 VALIDATION_ERROR` with `details: [{row, field, message}]` (`row` counts data rows from 1, ' +
        'the header is row 0) and nothing is written; otherwise one transaction, one audit entry per record. ' +
        'At most IMPORT_MAX_ROWS rows and IMPORT_MAX_BYTES bytes (else 413). Cells are stored as given, formulas included ' +
        '(the CSV export neutralises them). ' +
        (dedupe.length
          ? `\`dedupeBy\` (${dedupe.join(' or ')}): rows of the file sharing a key are merged (a later non-empty cell wins).`
          : `\`dedupeBy\` is not available for ${plural} (400).`),
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
      [429, 'RATE_LIMIT: an import of your team is already running (Retry-After)'],
    )
    @ParamTypes(Object, ImportQuery, Object)
    import(@Body() body: unknown, @Query() query: ImportQuery, @CurrentActor() actor: Actor) {
      return this.importer.import(this.service, createDto, actor, body, {
        dryRun: query.dryRun === 'true',
        dedupeBy: query.dedupeBy,
      });
    }
  }
  Object.defineProperty(CrmResourceImportController, 'name', { value: `${pascalCase(def.resource)}ImportController` });
  return CrmResourceImportController;
}
