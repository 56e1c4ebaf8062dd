import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';
import { type Actor } from '../../../common/security/principal';
import { TeamScope } from '../../../database/team-scope';
import { AuditService } from '../../audit/audit.service';
import { TeamMembers } from '../../users/users.module';
import { SecurityEventsService } from '../../security-events/security-events.service';
import { CrmResourceService, type CrmRow } from '../common/crm-resource.service';
import { tasksDefinition } from './tasks.definition';

@Injectable()
export class TasksService extends CrmResourceService {
  constructor(teamScope: TeamScope, audit: AuditService, events: SecurityEventsService, members: TeamMembers) {
    super(tasksDefinition, teamScope, audit, events, members);
  }

  /**
   * A status change also changes completedAt. The tasks_bookkeeping trigger sets the actual value (now()
   * on entering done, null on leaving it); naming the field here puts it in the update's audit entry.
   */
  protected override beforeUpdate(
    _m: EntityManager,
    _actor: Actor,
    old: CrmRow,
    changes: Record<string, unknown>,
  ): void {
    const status = changes.status;
    if (status === undefined || status === old.status) return;
    if (status === 'done') changes.completedAt = new Date().toISOString();
    else if (old.status === 'done') changes.completedAt = null;
  }
}
