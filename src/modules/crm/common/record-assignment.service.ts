import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AppException } from '../../../common/http/app.exception';
import { type Actor } from '../../../common/security/principal';
import { queryRows } from '../../../database/query-rows';
import { TeamScope } from '../../../database/team-scope';
import { TeamMembers } from '../../users/users.module';
import { assigneeNotFound } from './crm-errors';
import { CrmResourceRegistry } from './crm-registry';

/**
 * Moves a user's records to another user of the team (or to nobody): every live record of every registered
 * CRM-pattern table (and, per its definition, only open tasks), one UPDATE per table, each row with its UPDATE
 * audit row in the same statement. Runs in the caller's transaction, so a user's removal and the hand-over
 * commit together.
 */
@Injectable()
export class RecordAssignmentService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly registry: CrmResourceRegistry,
    private readonly members: TeamMembers,
  ) {}

  /** POST /v1/users/:id/reassign: checks both users, then moves the records in one transaction. */
  async reassign(actor: Actor, fromUserId: string, toUserId: string | null): Promise<{ moved: number }> {
    const teamId = actor.principal?.teamId;
    if (!teamId) throw AppException.unauthenticated();
    return this.dataSource.transaction(async (m) => {
      // The user whose records move may be disabled (the usual case); it must be of this team.
      if (!(await this.members.isMember(teamId, fromUserId, { manager: m }))) throw AppException.notFound('User');
      if (toUserId !== null) await this.assertAssignable(m, teamId, toUserId, fromUserId);
      return { moved: await this.reassignWithin(m, actor, fromUserId, toUserId) };
    });
  }

  /**
   * The target of a hand-over: an enabled user of the team other than the one giving the records away, else
   * 404 (400 for the same user). The field named in the error is `field`.
   */
  async assertAssignable(
    m: EntityManager,
    teamId: string,
    toUserId: string,
    fromUserId: string,
    field = 'toUserId',
  ): Promise<void> {
    if (toUserId === fromUserId)
      throw AppException.validation(`Invalid input: ${field} must be another user`, [
        { field, errors: ['must be another user'] },
      ]);
    // Locked: the target cannot be removed before this transaction ends (the foreign key would fail late).
    if (!(await this.members.isActiveMember(teamId, toUserId, { manager: m, lock: true })))
      throw assigneeNotFound(field);
  }

  /** Moves the live records (already checked users) on `m`; the number moved. */
  async reassignWithin(m: EntityManager, actor: Actor, fromUserId: string, toUserId: string | null): Promise<number> {
    return this.move(m, actor, fromUserId, toUserId, 'live');
  }

  /**
   * Before a user is removed: the live records go to `toUserId` (or nobody), and every other row still pointing
   * at the user (trashed records, closed tasks) is unassigned, all with audit rows, so the foreign key never
   * has to null anything silently. Returns the number of live records moved.
   */
  async releaseUserWithin(
    m: EntityManager,
    actor: Actor,
    fromUserId: string,
    toUserId: string | null,
  ): Promise<number> {
    const moved = await this.move(m, actor, fromUserId, toUserId, 'live');
    await this.move(m, actor, fromUserId, null, 'rest');
    return moved;
  }

  private async move(
    m: EntityManager,
    actor: Actor,
    fromUserId: string,
    toUserId: string | null,
    which: 'live' | 'rest',
  ): Promise<number> {
    const teamId = actor.principal?.teamId;
    if (!teamId) throw AppException.unauthenticated();
    // The CRM tables are reachable only in a tenant scope: the users change around this stays in the same
    // transaction, as the connecting role again afterwards. `system` sees every record of the team, trash too.
    return TeamScope.within(m, { teamId, role: 'system', trash: true }, async () => {
      let moved = 0;
      for (const service of this.registry.services()) {
        const { sql, params } = service.reassignStatement(actor, teamId, fromUserId, toUserId, which);
        moved += (await queryRows(m, sql, [...params])).length;
      }
      return moved;
    });
  }
}
