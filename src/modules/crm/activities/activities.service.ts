import { Injectable } from '@nestjs/common';
import { AppException } from '../../../common/http/app.exception';
import { type Actor } from '../../../common/security/principal';
import { TeamScope } from '../../../database/team-scope';
import { AuditService } from '../../audit/audit.service';
import { TeamMembers } from '../../users/users.module';
import { SecurityEventsService } from '../../security-events/security-events.service';
import { CrmResourceService, type CrmRow } from '../common/crm-resource.service';
import { LINK_FIELDS, activitiesDefinition } from './activities.definition';

/** Read-only aliases of the creator columns: who logged the activity. */
const AUTHOR_SELECT = `"created_by" AS "authorId", "created_by_api_key" AS "apiKeyId"`;

@Injectable()
export class ActivitiesService extends CrmResourceService {
  constructor(teamScope: TeamScope, audit: AuditService, events: SecurityEventsService, members: TeamMembers) {
    super(activitiesDefinition, teamScope, audit, events, members);
  }

  protected override extraSelect(): { select: string; fields: string[] } {
    return { select: AUTHOR_SELECT, fields: ['authorId', 'apiKeyId'] };
  }

  /** An activity is always about something: no link is a 400 before any lookup (the CHECK backs it up). */
  override create(actor: Actor, body: object): Promise<CrmRow> {
    const values = body as Record<string, unknown>;
    if (!LINK_FIELDS.some((f) => values[f] !== undefined && values[f] !== null)) {
      throw AppException.validation(`Invalid input: link the activity to at least one of ${LINK_FIELDS.join(', ')}`, [
        { field: 'clientId', errors: [`one of ${LINK_FIELDS.join(', ')} is required`] },
      ]);
    }
    return super.create(actor, body);
  }
}
