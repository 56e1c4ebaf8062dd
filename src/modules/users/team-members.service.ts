import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { queryRows } from '../../database/query-rows';

export interface MemberLookup {
  /** Run on the caller's transaction (a CRM write's TeamScope), so the answer holds for that write. */
  manager?: EntityManager;
  /**
   * FOR KEY SHARE: the user cannot be removed (nor its id changed) until the caller's transaction ends, so a
   * foreign key to it written later in that transaction cannot fail. Needs `manager`.
   */
  lock?: boolean;
}

/**
 * Who belongs to a team, for other modules (CRM assignment, reassignment, imports, reminders): they ask here
 * instead of reading the `users` table, which the users module owns.
 */
@Injectable()
export class TeamMembers {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** An enabled user of the team. */
  async isActiveMember(teamId: string, userId: string, options: MemberLookup = {}): Promise<boolean> {
    const rows = await queryRows(
      options.manager ?? this.dataSource.manager,
      `SELECT 1 FROM users WHERE team_id = $1 AND id = $2 AND NOT disabled${options.lock ? ' FOR KEY SHARE' : ''}`,
      [teamId, userId],
    );
    return rows.length > 0;
  }

  /** A user of the team, enabled or not (a disabled user's records can still be handed over). */
  async isMember(teamId: string, userId: string, options: MemberLookup = {}): Promise<boolean> {
    const rows = await queryRows(
      options.manager ?? this.dataSource.manager,
      `SELECT 1 FROM users WHERE team_id = $1 AND id = $2${options.lock ? ' FOR KEY SHARE' : ''}`,
      [teamId, userId],
    );
    return rows.length > 0;
  }

  /** Which of `userIds` are enabled users of the team. */
  async activeAmong(teamId: string, userIds: readonly string[], options: MemberLookup = {}): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const rows = await queryRows<{ id: string }>(
      options.manager ?? this.dataSource.manager,
      `SELECT id::text AS id FROM users WHERE team_id = $1 AND id = ANY($2::uuid[]) AND NOT disabled`,
      [teamId, [...userIds]],
    );
    return new Set(rows.map((r) => r.id));
  }

  /** Where to write to them: the enabled users among `userIds` (any team), by id. */
  async contacts(userIds: readonly string[]): Promise<Map<string, { email: string; firstName: string }>> {
    if (userIds.length === 0) return new Map();
    const rows = await queryRows<{ id: string; email: string; first_name: string }>(
      this.dataSource.manager,
      `SELECT id::text AS id, email, first_name FROM users WHERE id = ANY($1::uuid[]) AND NOT disabled`,
      [[...userIds]],
    );
    return new Map(rows.map((r) => [r.id, { email: r.email, firstName: r.first_name }]));
  }
}

/**
 * For statements that must stay one statement (an insert whose default assignee is looked up inside it, so no
 * removal can slip between the lookup and the write): the SQL of "this id if it is a user of the team, else
 * NULL", given the placeholders or column expressions of the team and the user.
 */
export function teamMemberIdSql(team: string, user: string): string {
  return `(SELECT u.id FROM users u WHERE u.team_id = ${team} AND u.id = ${user}::uuid)`;
}

/** The same, as a condition: `user` is an enabled user of `team` (for a claim that must skip disabled users). */
export function activeTeamMemberSql(team: string, user: string): string {
  return `EXISTS (SELECT 1 FROM users a WHERE a.team_id = ${team} AND a.id = ${user} AND NOT a.disabled)`;
}
