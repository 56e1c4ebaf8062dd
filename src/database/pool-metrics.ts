import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type Pool } from 'pg';
import { DataSource } from 'typeorm';
import { type PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Metrics } from '../common/metrics/metrics';

/** The pg Pool TypeORM's Postgres driver opened (`master`; we configure no replicas). */
export function pgPool(dataSource: DataSource): Pool | undefined {
  return (dataSource.driver as PostgresDriver).master as Pool | undefined;
}

/** Pool gauges, read from the pg Pool's own counters when Prometheus scrapes (no query, no timer). */
@Injectable()
export class PoolMetrics implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    const pool = () => pgPool(this.dataSource);
    this.metrics.scrapedGauge(
      'hearth_db_pool_connections_in_use',
      'Database connections checked out of the pool (running a query or holding a transaction)',
      () => {
        const p = pool();
        return p && p.totalCount - p.idleCount;
      },
    );
    this.metrics.scrapedGauge(
      'hearth_db_pool_connections_idle',
      'Open database connections waiting in the pool',
      () => pool()?.idleCount,
    );
    this.metrics.scrapedGauge(
      'hearth_db_pool_waiting_requests',
      'Queries waiting for a connection because the pool is at DB_CONNECTION_POOL_MAX',
      () => pool()?.waitingCount,
    );
    this.metrics.scrapedGauge(
      'hearth_db_pool_max_connections',
      'DB_CONNECTION_POOL_MAX',
      () => this.config.database.poolMax,
    );
  }
}
