import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { UUID_PATTERN } from '../common/http/uuid.pipe';

/** The parts of TypeORM's query runner state that a hand-started transaction must keep consistent. */
interface TransactionState {
  isTransactionActive: boolean;
  transactionDepth: number;
}

/**
 * Runs work in one transaction as the `app_tenant` role with `app.team_id` set, so Postgres row-level
 * security limits every statement to that team: a second wall behind each query's own team filter.
 *
 * BEGIN, the role and the team setting travel in one round trip (a simple-protocol multi-statement), which
 * matters on the hot list path: a read is three round trips (begin+scope, query, commit) instead of four.
 */
@Injectable()
export class TeamScope {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  async run<T>(teamId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    // The id comes from a verified credential; the pattern check makes inlining it safe (SET takes no parameters).
    if (!UUID_PATTERN.test(teamId)) throw new Error('TeamScope: team id is not a UUID');
    const runner = this.dataSource.createQueryRunner();
    const state = runner as unknown as TransactionState;
    await runner.connect();
    try {
      await runner.query(`START TRANSACTION; SET LOCAL ROLE app_tenant; SET LOCAL app.team_id = '${teamId}'`);
      // Tell TypeORM a transaction is open, so nested saves use savepoints instead of a second BEGIN.
      state.isTransactionActive = true;
      state.transactionDepth = 1;
      const result = await work(runner.manager);
      await runner.query('COMMIT');
      return result;
    } catch (err) {
      if (!runner.isReleased) await runner.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      state.isTransactionActive = false;
      state.transactionDepth = 0;
      await runner.release().catch(() => undefined);
    }
  }
}
