import { applyDecorators, Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses, ApiPageResponse } from '../../../common/http/api-responses.decorator';
import { UuidPipe } from '../../../common/http/uuid.pipe';
import { CurrentActor, Permission } from '../../../common/security/decorators';
import { Actor } from '../../../common/security/principal';
import { TimelineItemResponse, TimelineQuery } from './dto/timeline.dto';
import { TimelineService } from './timeline.service';

const DESCRIPTION =
  'Newest first: `activity` (at occurredAt), `appointment` (at startsAt; clients and leads only), `task` (at ' +
  'dueAt, else createdAt) and `change` (a field change from the audit trail: who, old and new values). ' +
  'Future-dated entries come first. Only what you may see is listed (agent visibility, trash). Keyset pages: ' +
  'pass `meta.nextCursor` back as `cursor`; a cursor of another record is a 400.';

/** The OpenAPI description of one resource's timeline route. */
const TimelineDocs = (noun: string) =>
  applyDecorators(
    ApiOperation({ summary: `Timeline of a ${noun}`, description: DESCRIPTION }),
    ApiParam({ name: 'id', format: 'uuid', description: `The ${noun}'s id` }),
    ApiPageResponse(TimelineItemResponse, 'One page of entries, newest first'),
    ApiErrorResponses([400, 'VALIDATION_ERROR: the id is not a UUID, or a bad limit or cursor'], 401, 403, [
      404,
      `NOT_FOUND: no such ${noun} that you can see (another team's, not visible to you, or in the trash)`,
    ]),
  );

/** GET /v1/<clients|leads|listings|escrows>/:id/timeline, each with the read permission of its resource. */
@ApiTags('timeline')
@Controller()
export class TimelineController {
  constructor(private readonly timelines: TimelineService) {}

  @Get('clients/:id/timeline')
  @Permission('clients', 'read')
  @TimelineDocs('client')
  clients(@Param('id', UuidPipe) id: string, @Query() query: TimelineQuery, @CurrentActor() actor: Actor) {
    return this.timelines.timeline(actor, 'clients', id, query);
  }

  @Get('leads/:id/timeline')
  @Permission('leads', 'read')
  @TimelineDocs('lead')
  leads(@Param('id', UuidPipe) id: string, @Query() query: TimelineQuery, @CurrentActor() actor: Actor) {
    return this.timelines.timeline(actor, 'leads', id, query);
  }

  @Get('listings/:id/timeline')
  @Permission('listings', 'read')
  @TimelineDocs('listing')
  listings(@Param('id', UuidPipe) id: string, @Query() query: TimelineQuery, @CurrentActor() actor: Actor) {
    return this.timelines.timeline(actor, 'listings', id, query);
  }

  @Get('escrows/:id/timeline')
  @Permission('escrows', 'read')
  @TimelineDocs('escrow')
  escrows(@Param('id', UuidPipe) id: string, @Query() query: TimelineQuery, @CurrentActor() actor: Actor) {
    return this.timelines.timeline(actor, 'escrows', id, query);
  }
}
