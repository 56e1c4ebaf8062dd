import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type AppConfig } from '../../../config/app-config';
import { APP_CONFIG } from '../../../config/config.module';
import { Clock } from '../../../common/time/clock';
import { queryRows } from '../../../database/query-rows';
import { JobRuns } from '../../../common/metrics/job-runs';
import { CrmResourceRegistry } from './crm-registry';
import { type CrmResourceService, type Referrer } from './crm-resource.service';

/** Rounds over the tables: a parent whose last referencing child was purged in one round goes in the next. */
const MAX_ROUNDS = 5;

/**
 * Daily purge of CRM records trashed more than TRASH_RETENTION_DAYS ago, for every registered CRM-pattern
 * table, team by team: one set-based DELETE per (team, table) batch, each row with its PURGE audit row in the
 * same statement (TeamScope as role 'system' with the trash visible).
 *
 * ON DELETE RESTRICT references (an appointment or escrow pointing at a trashed client or listing): a trashed
 * parent keeps its children, and the purge skips a row that any other row (live or trashed) still references;
 * it goes once the reference does (the child purged, relinked or unlinked). Children expiring together with
 * their parent go first, the parent in a later round of the same run.
 */
@Injectable()
export class CrmTrashPurge {
  private readonly logger = new Logger(CrmTrashPurge.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: CrmResourceRegistry,
    private readonly clock: Clock,
    private readonly jobs: JobRuns,
  ) {}

  @Cron(CronExpression.EVERY_DAY_AT_4AM, { name: 'crm-trash-purge' })
  async scheduled(): Promise<void> {
    try {
      await this.jobs.run('crm-trash-purge', { cron: true }, () => this.purge());
    } catch (err) {
      this.logger.error(`trash purge failed: ${(err as Error).message}`);
    }
  }

  /** Purges everything trashed before `now - TRASH_RETENTION_DAYS`; the number of rows purged per table. */
  async purge(now = this.clock.now()): Promise<Record<string, number>> {
    const cutoff = new Date(now.getTime() - this.config.trash.retentionMs);
    const services = this.registry.services();
    const referrers = new Map<string, Referrer[]>();
    for (const service of services)
      referrers.set(service.definition.table, await this.referrersOf(service.definition.table));

    const purged: Record<string, number> = {};
    for (let round = 0; round < MAX_ROUNDS; round++) {
      let thisRound = 0;
      for (const service of services) {
        const n = await this.purgeTable(service, cutoff, referrers.get(service.definition.table) ?? []);
        purged[service.definition.table] = (purged[service.definition.table] ?? 0) + n;
        thisRound += n;
      }
      if (thisRound === 0) break;
    }
    const total = Object.values(purged).reduce((a, b) => a + b, 0);
    if (total) this.logger.log(`purged ${total} trashed CRM records deleted before ${cutoff.toISOString()}`);
    return purged;
  }

  private async purgeTable(service: CrmResourceService, cutoff: Date, referrers: Referrer[]): Promise<number> {
    const table = service.definition.table;
    // crm_trash_teams (SECURITY DEFINER: the API role cannot read CRM tables across teams) names the teams with
    // expired trash; each team's purge runs in its own scope.
    const teams = await queryRows<{ team_id: string }>(
      this.dataSource.manager,
      `SELECT t AS team_id FROM crm_trash_teams($1, $2) AS t`,
      [table, cutoff],
    );
    let total = 0;
    for (const { team_id: teamId } of teams) {
      try {
        total += await service.purgeTeam(teamId, cutoff, referrers);
      } catch (err) {
        // One team's failure (a reference added meanwhile) must not stop the others; the next run retries.
        this.logger.warn(`trash purge of ${table} for team ${teamId} failed: ${(err as Error).message}`);
      }
    }
    return total;
  }

  /** The columns of other rows that point at `table` with a restricting foreign key (from the catalogue). */
  private async referrersOf(table: string): Promise<Referrer[]> {
    const rows = await queryRows<{ table: string; column: string }>(
      this.dataSource.manager,
      `SELECT src.relname AS table, a.attname AS column
         FROM pg_constraint c
         JOIN pg_class src ON src.oid = c.conrelid
         JOIN pg_namespace n ON n.oid = src.relnamespace AND n.nspname = 'public'
         JOIN LATERAL unnest(c.conkey) AS k(attnum) ON true
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
        WHERE c.contype = 'f' AND c.confrelid = $1::regclass AND c.confdeltype IN ('a', 'r')
          AND a.attname <> 'team_id'`,
      [`public.${table}`],
    );
    return rows.filter((r) => /^[a-z_][a-z0-9_]*$/.test(r.table) && /^[a-z_][a-z0-9_]*$/.test(r.column));
  }
}
