import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AppException } from '../../common/http/app.exception';
import { type Actor } from '../../common/security/principal';
import { queryRows } from '../../database/query-rows';
import { utcIsoSql } from '../../database/sql-time';
import { AuditService } from '../audit/audit.service';
import { type TeamResponse, type UpdateTeamDto } from './dto/team.dto';

const COLUMNS = `id, name, agent_visibility AS "agentVisibility", ${utcIsoSql('created_at', 'ms')} AS "createdAt"`;

/**
 * The caller's team: its name and its record visibility rule. The team always comes from the caller; a change
 * commits with its audit row (resource type `team`). A new agent_visibility applies to every transaction that
 * starts after the commit (TeamScope reads it at BEGIN).
 */
@Injectable()
export class TeamsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  private teamOf(actor: Actor): string {
    const teamId = actor.principal?.teamId;
    if (!teamId) throw AppException.unauthenticated();
    return teamId;
  }

  async get(actor: Actor): Promise<TeamResponse> {
    const [team] = await this.find(this.dataSource.manager, this.teamOf(actor));
    if (!team) throw AppException.notFound('Team');
    return team;
  }

  async update(actor: Actor, dto: UpdateTeamDto): Promise<TeamResponse> {
    const teamId = this.teamOf(actor);
    const fields = (['name', 'agentVisibility'] as const).filter((f) => dto[f] !== undefined);
    if (fields.length === 0) throw AppException.validation('Invalid input: send name and/or agentVisibility');
    return this.dataSource.transaction(async (m) => {
      const [old] = await this.find(m, teamId, true);
      if (!old) throw AppException.notFound('Team');
      const changed = fields.filter((f) => dto[f] !== old[f]);
      if (changed.length === 0) return old;
      const [team] = await queryRows<TeamResponse>(
        m,
        `UPDATE teams SET name = coalesce($2, name), agent_visibility = coalesce($3, agent_visibility), updated_at = now()
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [teamId, dto.name ?? null, dto.agentVisibility ?? null],
      );
      await this.audit.record(m, actor, {
        action: 'UPDATE',
        resourceType: 'team',
        resourceId: teamId,
        oldValues: Object.fromEntries(changed.map((f) => [f, old[f]])),
        newValues: Object.fromEntries(changed.map((f) => [f, team![f]])),
      });
      return team!;
    });
  }

  private find(m: EntityManager, teamId: string, lock = false): Promise<TeamResponse[]> {
    return queryRows<TeamResponse>(m, `SELECT ${COLUMNS} FROM teams WHERE id = $1${lock ? ' FOR NO KEY UPDATE' : ''}`, [
      teamId,
    ]);
  }
}
