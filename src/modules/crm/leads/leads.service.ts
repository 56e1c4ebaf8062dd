import { Injectable, Optional } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ChangeOutbox } from '../../../common/events/change-outbox';
import { AppException } from '../../../common/http/app.exception';
import { Actor, scopesAllow } from '../../../common/security/principal';
import { oneRow, queryRows } from '../../../database/query-rows';
import { TeamScope } from '../../../database/team-scope';
import { AuditService } from '../../audit/audit.service';
import { TeamMembers } from '../../users/users.module';
import { SecurityEventsService, eventContext } from '../../security-events/security-events.service';
import { ClientsService } from '../clients/clients.service';
import { CrmResourceService, CrmRow } from '../common/crm-resource.service';
import { LEAD_CONVERTED_EVENT, leadsDefinition } from './leads.definition';

@Injectable()
export class LeadsService extends CrmResourceService {
  constructor(
    teamScope: TeamScope,
    audit: AuditService,
    events: SecurityEventsService,
    members: TeamMembers,
    private readonly clients: ClientsService,
    @Optional() private readonly outbox?: ChangeOutbox,
  ) {
    super(leadsDefinition, teamScope, audit, events, members);
  }

  /** A converted lead keeps its status: reopening it would allow a second conversion. */
  protected override beforeUpdate(
    _m: EntityManager,
    _actor: Actor,
    old: CrmRow,
    changes: Record<string, unknown>,
  ): void {
    if (old.leadStatus === 'converted' && changes.leadStatus !== undefined && changes.leadStatus !== 'converted') {
      throw AppException.conflict('This lead has been converted; its status can no longer change');
    }
  }

  /**
   * Creates a client from the lead and marks the lead `converted`, in one transaction with both audit rows.
   * The lead row is locked first, so of two concurrent conversions one wins and the other gets 409.
   */
  async convert(actor: Actor, id: string): Promise<CrmRow> {
    const teamId = this.teamOf(actor);
    // The route needs leads:write; creating the client needs clients:write too (roles that write leads write clients).
    const principal = actor.principal;
    if (principal?.kind === 'apiKey' && !scopesAllow(principal.scopes, this.clients.definition.resource, 'write')) {
      await this.events.record(
        'insufficient_scope',
        'medium',
        eventContext(actor, { path: `/v1/leads/${id}/convert`, required: `${this.clients.definition.resource}:write` }),
      );
      throw new AppException('INSUFFICIENT_SCOPE', `Requires ${this.clients.definition.resource}:write`);
    }
    return this.translateErrors('write', () =>
      this.teamScope.run(this.scopeOf(actor), async (m) => {
        const [lead] = await this.findRow(m, teamId, id, true);
        if (!lead) throw this.notFound();
        if (lead.leadStatus === 'converted') throw AppException.conflict('This lead has already been converted');
        const client = await this.clients.createWithin(
          m,
          actor,
          {
            firstName: lead.firstName,
            lastName: lead.lastName,
            email: lead.email,
            phone: lead.phone,
            notes: lead.notes,
            clientType: lead.leadType,
            status: 'active',
          },
          // The client stays with whoever the lead was assigned to.
          { leadId: lead.id, assignedTo: lead.assignedTo ?? null },
        );
        const convertedAt = oneRow(await queryRows<{ now: Date }>(m, 'SELECT now() AS now'));
        const converted = await this.updateWithin(m, actor, lead, {
          leadStatus: 'converted',
          convertedClientId: client.id,
          convertedAt: convertedAt.now,
        });
        // In the conversion's transaction: sent only if it commits.
        await this.outbox?.emit(m, teamId, LEAD_CONVERTED_EVENT, { ...converted, client });
        return client;
      }),
    );
  }
}
