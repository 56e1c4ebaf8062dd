import { applyDecorators, Controller, Get, Param, Query, type Type } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses, ApiPageResponse } from '../../../common/http/api-responses.decorator';
import { UuidPipe } from '../../../common/http/uuid.pipe';
import { CurrentActor, Permission } from '../../../common/security/decorators';
import { Actor, type CrmResource } from '../../../common/security/principal';
import { pascalCase } from '../common/crm-resource.controller';
import { type CrmResourceEntry } from '../common/crm-resource.entry';
import { TimelineQuery, timelineItemResponse } from './dto/timeline.dto';
import { TimelineService } from './timeline.service';

const DESCRIPTION =
  'Newest first: the entries linked to the record (`kind` is the entry type: activities at occurredAt, ' +
  'appointments at startsAt, tasks at dueAt, else createdAt) and `change` (a field change from the audit trail: ' +
  'who, old and new values). Future-dated entries come first. Only what you may see is listed (agent visibility, ' +
  'trash). Keyset pages: pass `meta.nextCursor` back as `cursor`; a cursor of another record is a 400.';

/**
 * GET /v1/<resource>/:id/timeline for each catalogue entry whose definition is a timeline subject, each with
 * the read permission of its resource; the item schema lists the entry resources.
 */
export function timelineControllers(catalogue: readonly CrmResourceEntry[]): Type[] {
  const entries = catalogue.filter((e) => e.definition.timeline?.role === 'entry');
  const item = timelineItemResponse(entries.map((e) => ({ kind: e.definition.auditType, response: e.dtos.response })));
  Object.defineProperty(item, 'name', { value: 'TimelineItemResponse' });
  return catalogue
    .filter((e) => e.definition.timeline?.role === 'subject')
    .map((e) => {
      const def = e.definition;
      const noun = def.label.toLowerCase();
      const docs = applyDecorators(
        ApiOperation({ summary: `Timeline of a ${noun}`, description: DESCRIPTION }),
        ApiParam({ name: 'id', format: 'uuid', description: `The ${noun}'s id` }),
        ApiPageResponse(item, 'One page of entries, newest first'),
        ApiErrorResponses([400, 'VALIDATION_ERROR: the id is not a UUID, or a bad limit or cursor'], 401, 403, [
          404,
          `NOT_FOUND: no such ${noun} that you can see (another team's, not visible to you, or in the trash)`,
        ]),
      );

      @ApiTags('timeline')
      @Controller(def.resource)
      class ResourceTimelineController {
        constructor(private readonly timelines: TimelineService) {}

        @Get(':id/timeline')
        @Permission(def.resource as CrmResource, 'read')
        @docs
        timeline(@Param('id', UuidPipe) id: string, @Query() query: TimelineQuery, @CurrentActor() actor: Actor) {
          return this.timelines.timeline(actor, def.resource, id, query);
        }
      }
      Object.defineProperty(ResourceTimelineController, 'name', {
        value: `${pascalCase(def.resource)}TimelineController`,
      });
      return ResourceTimelineController;
    });
}
