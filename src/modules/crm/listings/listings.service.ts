import { Injectable } from '@nestjs/common';
import { TeamScope } from '../../../database/team-scope';
import { AuditService } from '../../audit/audit.service';
import { TeamMembers } from '../../users/users.module';
import { SecurityEventsService } from '../../security-events/security-events.service';
import { CrmResourceService } from '../common/crm-resource.service';
import { listingsDefinition } from './listings.definition';

@Injectable()
export class ListingsService extends CrmResourceService {
  constructor(teamScope: TeamScope, audit: AuditService, events: SecurityEventsService, members: TeamMembers) {
    super(listingsDefinition, teamScope, audit, events, members);
  }
}
