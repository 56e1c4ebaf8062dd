import { Injectable } from '@nestjs/common';
import { TeamScope } from '../../../database/team-scope';
import { AuditService } from '../../audit/audit.service';
import { TeamMembers } from '../../users/users.module';
import { SecurityEventsService } from '../../security-events/security-events.service';
import { CrmResourceService } from '../common/crm-resource.service';
import { escrowsDefinition } from './escrows.definition';

@Injectable()
export class EscrowsService extends CrmResourceService {
  constructor(teamScope: TeamScope, audit: AuditService, events: SecurityEventsService, members: TeamMembers) {
    super(escrowsDefinition, teamScope, audit, events, members);
  }
}
