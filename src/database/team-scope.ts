import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { UUID_PATTERN } from '../common/http/uuid.pipe';

/**
 * Runs work in one transaction as the `app_tenant` role with `app.team_id` set, so Postgres row-level
 * security limits every statement to that team: a second wall behind each query's own team filter.
 */
@Injectable()
export class TeamScope {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  async run<T>(teamId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    // The id comes from a verified credential; the pattern check makes inlining it safe (SET takes no parameters).
    if (!UUID_PATTERN.test(teamId)) throw new Error('TeamScope: team id is not a UUID');
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SET LOCAL ROLE app_tenant; SET LOCAL app.team_id = '${teamId}'`);
      return work(manager);
    });
  }
}
