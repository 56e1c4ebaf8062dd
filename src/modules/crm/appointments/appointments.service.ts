import { Injectable } from '@nestjs/common';
import { TeamScope } from '../../../database/team-scope';
import { AuditService } from '../../audit/audit.service';
import { TeamMembers } from '../../users/users.module';
import { SecurityEventsService } from '../../security-events/security-events.service';
import { CrmResourceService } from '../common/crm-resource.service';
import { appointmentsDefinition } from './appointments.definition';

@Injectable()
export class AppointmentsService extends CrmResourceService {
  constructor(teamScope: TeamScope, audit: AuditService, events: SecurityEventsService, members: TeamMembers) {
    super(appointmentsDefinition, teamScope, audit, events, members);
  }
}
