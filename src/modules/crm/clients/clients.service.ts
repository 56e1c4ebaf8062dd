import { Injectable } from '@nestjs/common';
import { TeamScope } from '../../../database/team-scope';
import { AuditService } from '../../audit/audit.service';
import { SecurityEventsService } from '../../security-events/security-events.service';
import { CrmResourceService } from '../common/crm-resource.service';
import { clientsDefinition } from './clients.definition';

@Injectable()
export class ClientsService extends CrmResourceService {
  constructor(teamScope: TeamScope, audit: AuditService, events: SecurityEventsService) {
    super(clientsDefinition, teamScope, audit, events);
  }
}
