import { Body, Delete, Get, HttpCode, Param, Patch, Post, Query, StreamableFile, Type } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProduces, ApiResponse } from '@nestjs/swagger';
import { ApiDataResponse, ApiErrorResponses, ApiPageResponse } from '../../../common/http/api-responses.decorator';
import { UuidPipe } from '../../../common/http/uuid.pipe';
import { CurrentActor, Permission, Sensitive } from '../../../common/security/decorators';
import { Actor } from '../../../common/security/principal';
import { CrmListQueryShape } from './crm-list-query.dto';
import { CrmResourceDefinition } from './crm-resource.definition';
import { CrmResourceService } from './crm-resource.service';
import { toCsv } from './crm-csv';
import { ParamTypes } from './param-types.decorator';
import { DeletedResponse } from './crm-record.response';

export interface CrmControllerTypes {
  create: Type<object>;
  update: Type<object>;
  listQuery: Type<object>;
  exportQuery: Type<object>;
  response: Type<object>;
}

/**
 * The routes every CRM resource has, declared once: list, export, get, create, update, delete, each with its
 * permission, its sensitivity and its OpenAPI description. A resource's controller extends the class this
 * returns, adds `@Controller('<resource>')` and `@ApiTags`, and only its special routes.
 */
export function CrmController(def: CrmResourceDefinition, types: CrmControllerTypes) {
  const noun = def.label.toLowerCase();
  const aNoun = `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
  const plural = def.resource;
  const idParam = ApiParam({ name: 'id', format: 'uuid', description: `The ${noun}'s id` });

  abstract class CrmResourceController {
    protected constructor(protected readonly service: CrmResourceService) {}

    @Get()
    @Permission(def.resource, 'read')
    @ApiOperation({
      summary: `List ${plural}`,
      description: `Keyset pagination: pass \`meta.nextCursor\` back as \`cursor\` (same sort and filters). \`q\` searches ${def.searchFields.join(', ')}.`,
    })
    @ApiPageResponse(types.response)
    @ApiErrorResponses(400, 401, 403)
    @ParamTypes(types.listQuery, Object)
    list(@Query() query: CrmListQueryShape, @CurrentActor() actor: Actor) {
      return this.service.list(actor, query);
    }

    @Get('export')
    @Permission(def.resource, 'read')
    @Sensitive('export')
    @ApiOperation({
      summary: `Export ${plural} as CSV`,
      description:
        "Streams every matching row of your team as CSV (header row first), with the list's filters, `q` and `sort`. " +
        'Writes a `data_export` security event, and `data_export_large` (high) above 1000 rows. Bearer callers need a recent password entry.',
    })
    @ApiProduces('text/csv')
    @ApiResponse({
      status: 200,
      description: `CSV attachment (${plural}-YYYY-MM-DD.csv)`,
      content: { 'text/csv': { schema: { type: 'string' } } },
    })
    @ApiErrorResponses(
      400,
      [401, 'UNAUTHENTICATED, or REAUTH_REQUIRED: confirm the password (POST /v1/auth/reauth) first'],
      403,
    )
    @ParamTypes(types.exportQuery, Object)
    async export(@Query() query: CrmListQueryShape, @CurrentActor() actor: Actor): Promise<StreamableFile> {
      const { rows } = await this.service.exportRows(actor, query);
      const filename = `${plural}-${new Date().toISOString().slice(0, 10)}.csv`;
      return new StreamableFile(toCsv(rows, this.service.exportColumns), {
        type: 'text/csv; charset=utf-8',
        disposition: `attachment; filename="${filename}"`,
      });
    }

    @Get(':id')
    @Permission(def.resource, 'read')
    @ApiOperation({ summary: `Get one ${noun}` })
    @idParam
    @ApiDataResponse(types.response)
    @ApiErrorResponses([400, 'VALIDATION_ERROR: the id is not a UUID'], 401, 403, 404)
    @ParamTypes(String, Object)
    get(@Param('id', UuidPipe) id: string, @CurrentActor() actor: Actor) {
      return this.service.get(actor, id);
    }

    @Post()
    @HttpCode(201)
    @Permission(def.resource, 'write')
    @ApiOperation({
      summary: `Create ${aNoun}`,
      description: 'Written together with its audit entry, in one transaction.',
    })
    @ApiDataResponse(types.response, { status: 201, description: 'Created' })
    @ApiErrorResponses(400, 401, 403, [404, 'NOT_FOUND: a referenced id is not a record of your team'], 409)
    @ParamTypes(types.create, Object)
    create(@Body() body: object, @CurrentActor() actor: Actor) {
      return this.service.create(actor, body);
    }

    @Patch(':id')
    @Permission(def.resource, 'write')
    @ApiOperation({
      summary: `Update ${aNoun}`,
      description: 'Send only the fields to change; null clears an optional field.',
    })
    @idParam
    @ApiDataResponse(types.response)
    @ApiErrorResponses(
      400,
      401,
      403,
      [404, `NOT_FOUND: no such ${noun} in your team, or a referenced id is not a record of your team`],
      409,
    )
    @ParamTypes(String, types.update, Object)
    update(@Param('id', UuidPipe) id: string, @Body() body: object, @CurrentActor() actor: Actor) {
      return this.service.update(actor, id, body);
    }

    @Delete(':id')
    @Permission(def.resource, 'delete')
    @Sensitive('delete')
    @ApiOperation({
      summary: `Delete ${aNoun}`,
      description: 'Bearer callers need a recent password entry (REAUTH_WINDOW_MINUTES).',
    })
    @idParam
    @ApiDataResponse(DeletedResponse)
    @ApiErrorResponses(
      [400, 'VALIDATION_ERROR: the id is not a UUID'],
      [401, 'UNAUTHENTICATED, or REAUTH_REQUIRED: confirm the password (POST /v1/auth/reauth) first'],
      403,
      404,
      [409, 'CONFLICT: other records still reference it'],
    )
    @ParamTypes(String, Object)
    remove(@Param('id', UuidPipe) id: string, @CurrentActor() actor: Actor) {
      return this.service.remove(actor, id);
    }
  }
  return CrmResourceController;
}
