import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Res,
  StreamableFile,
  Type,
} from '@nestjs/common';
import {
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiResponse,
  ApiTags,
  IntersectionType,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { PaginationQuery } from '../../../common/pagination/pagination-query.dto';
import { ApiDataResponse, ApiErrorResponses, ApiPageResponse } from '../../../common/http/api-responses.decorator';
import { UuidPipe } from '../../../common/http/uuid.pipe';
import { CurrentActor, Permission, Sensitive } from '../../../common/security/decorators';
import { Actor, type CrmResource } from '../../../common/security/principal';
import { CrmListQueryShape } from './crm-list-query.dto';
import { CrmResourceDefinition } from './crm-resource.definition';
import { type CrmResourceDtos, type CrmResourceEntry } from './crm-resource.entry';
import { CrmResourceService } from './crm-resource.service';
import { toCsv } from './crm-csv';
import { ParamTypes } from './param-types.decorator';
import { DeletedResponse, TrashedRecordResponse } from './crm-record.response';
import { etagOf, parseIfMatch } from './if-match';

export type CrmControllerTypes = CrmResourceDtos;

const ETAG_HEADER = {
  ETag: {
    description: 'The record\'s `version` as a strong ETag (`"3"`); send it back in If-Match',
    schema: { type: 'string' as const },
  },
};

const IF_MATCH = ApiHeader({
  name: 'If-Match',
  required: false,
  description:
    'Only act on this version of the record: `"3"`, `3` or `W/"3"` (the ETag of GET /:id, or `version`). A different current version is 412 PRECONDITION_FAILED and nothing changes; any other value is 400. Without it the last write wins.',
});

/** `clients` → `Clients`: generated classes keep the names (and OpenAPI operation ids) of hand-written ones. */
export function pascalCase(name: string): string {
  return name.replace(/(^|_)([a-z])/g, (_, _sep: string, c: string) => c.toUpperCase());
}

const generated = new WeakMap<CrmResourceEntry, Type>();

/**
 * `/v1/<resource>` for a catalogue entry: the generic routes below under the resource's path and tag, with its
 * DTOs, served by its service. Built once per entry (CrmModule registers the same class the specs inspect).
 */
export function crmResourceController(entry: CrmResourceEntry): Type {
  const existing = generated.get(entry);
  if (existing) return existing;
  const def = entry.definition;
  @ApiTags(def.resource)
  @Controller(def.resource)
  class ResourceController extends CrmController(def, entry.dtos) {
    constructor(@Inject(entry.service) service: CrmResourceService) {
      super(service);
    }
  }
  Object.defineProperty(ResourceController, 'name', { value: `${pascalCase(def.resource)}Controller` });
  generated.set(entry, ResourceController);
  return ResourceController;
}

/**
 * The routes every CRM resource has, declared once: list, export, get, create, update, delete, each with its
 * permission, its sensitivity and its OpenAPI description. `crmResourceController` puts them under
 * `@Controller('<resource>')` and `@ApiTags`.
 */
export function CrmController(def: CrmResourceDefinition, types: CrmControllerTypes) {
  const resource = def.resource as CrmResource;
  const noun = def.label.toLowerCase();
  const aNoun = `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
  const plural = def.resource;
  const idParam = ApiParam({ name: 'id', format: 'uuid', description: `The ${noun}'s id` });
  // The trash list's item: the record plus deletedAt, under its own schema name.
  const trashed =
    types.trashed ??
    Object.defineProperty(IntersectionType(types.response, TrashedRecordResponse), 'name', {
      value: `${def.label}TrashedResponse`,
    });

  abstract class CrmResourceController {
    protected constructor(protected readonly service: CrmResourceService) {}

    @Get()
    @Permission(resource, 'read')
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
    @Permission(resource, 'read')
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
    @Permission(resource, 'read')
    @ApiOperation({
      summary: `Get one ${noun}`,
      description: 'Sends `ETag: "<version>"`. A record in the trash is 404.',
    })
    @idParam
    @ApiDataResponse(types.response, { headers: ETAG_HEADER })
    @ApiErrorResponses([400, 'VALIDATION_ERROR: the id is not a UUID'], 401, 403, 404)
    @ParamTypes(String, Object, Object)
    async get(
      @Param('id', UuidPipe) id: string,
      @CurrentActor() actor: Actor,
      @Res({ passthrough: true }) reply: FastifyReply,
    ) {
      const row = await this.service.get(actor, id);
      reply.header('ETag', etagOf(row.version));
      return row;
    }

    @Get('trash')
    @Permission(resource, 'delete')
    @ApiOperation({
      summary: `List ${plural} in the trash`,
      description: `Deleted ${plural} kept for TRASH_RETENTION_DAYS (then purged), most recently deleted first; keyset pagination. For callers who may delete.`,
    })
    @ApiPageResponse(trashed, 'One page, most recently deleted first')
    @ApiErrorResponses(400, 401, 403)
    @ParamTypes(PaginationQuery, Object)
    trash(@Query() query: PaginationQuery, @CurrentActor() actor: Actor) {
      return this.service.listTrash(actor, query);
    }

    @Post(':id/restore')
    @HttpCode(200)
    @Permission(resource, 'delete')
    @ApiOperation({
      summary: `Restore ${aNoun} from the trash`,
      description: 'The record comes back as it was (version + 1), with a RESTORE audit entry.',
    })
    @idParam
    @ApiDataResponse(types.response, { headers: ETAG_HEADER })
    @ApiErrorResponses(
      [400, 'VALIDATION_ERROR: the id is not a UUID'],
      401,
      403,
      [404, `NOT_FOUND: no such ${noun} in your trash (never deleted, unknown, or already purged)`],
      [409, 'CONFLICT: a live record now holds one of its unique values'],
    )
    @ParamTypes(String, Object, Object)
    async restore(
      @Param('id', UuidPipe) id: string,
      @CurrentActor() actor: Actor,
      @Res({ passthrough: true }) reply: FastifyReply,
    ) {
      const row = await this.service.restore(actor, id);
      reply.header('ETag', etagOf(row.version));
      return row;
    }

    @Post()
    @HttpCode(201)
    @Permission(resource, 'write')
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
    @Permission(resource, 'write')
    @ApiOperation({
      summary: `Update ${aNoun}`,
      description:
        'Send only the fields to change; null clears an optional field. With If-Match, only that version is changed.',
    })
    @idParam
    @IF_MATCH
    @ApiDataResponse(types.response, { headers: ETAG_HEADER })
    @ApiErrorResponses(
      [400, 'VALIDATION_ERROR: bad fields, a malformed id or a malformed If-Match'],
      401,
      [403, "FORBIDDEN (role; or an agent assigning a record away under agentVisibility 'assigned')"],
      [
        404,
        `NOT_FOUND: no such ${noun} in your team, a referenced id is not a record of your team, or assignedTo is not an active user of your team`,
      ],
      409,
      [412, 'PRECONDITION_FAILED: If-Match does not match the current version; nothing changed'],
    )
    @ParamTypes(String, types.update, Object, String, Object)
    async update(
      @Param('id', UuidPipe) id: string,
      @Body() body: object,
      @CurrentActor() actor: Actor,
      @Headers('if-match') ifMatch: string | undefined,
      @Res({ passthrough: true }) reply: FastifyReply,
    ) {
      const row = await this.service.update(actor, id, body, parseIfMatch(ifMatch));
      reply.header('ETag', etagOf(row.version));
      return row;
    }

    @Delete(':id')
    @Permission(resource, 'delete')
    @Sensitive('delete')
    @ApiOperation({
      summary: `Delete ${aNoun} (to the trash)`,
      description:
        'Moves it to the trash (GET /trash, POST /:id/restore) for TRASH_RETENTION_DAYS; from then on it is 404 to list, get, export and update. With If-Match, only that version is deleted. Bearer callers need a recent password entry (REAUTH_WINDOW_MINUTES).',
    })
    @idParam
    @IF_MATCH
    @ApiDataResponse(DeletedResponse)
    @ApiErrorResponses(
      [400, 'VALIDATION_ERROR: the id or If-Match is malformed'],
      [401, 'UNAUTHENTICATED, or REAUTH_REQUIRED: confirm the password (POST /v1/auth/reauth) first'],
      403,
      [404, `NOT_FOUND: no such ${noun} in your team (or it is already in the trash)`],
      [412, 'PRECONDITION_FAILED: If-Match does not match the current version; nothing changed'],
    )
    @ParamTypes(String, Object, String)
    remove(
      @Param('id', UuidPipe) id: string,
      @CurrentActor() actor: Actor,
      @Headers('if-match') ifMatch: string | undefined,
    ) {
      return this.service.remove(actor, id, parseIfMatch(ifMatch));
    }
  }
  return CrmResourceController;
}
