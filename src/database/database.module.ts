import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { type PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { AppConfig } from '../config/app-config';
import { CACHE_INVALIDATION_CONNECTION, CacheInvalidation } from './cache-invalidation';
import { dataSourceOptions } from './data-source-options';
import { TeamScope } from './team-scope';
import { PoolMetrics } from './pool-metrics';

@Module({})
export class DatabaseModule {
  static forRoot(config: AppConfig, url: string): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      imports: [
        TypeOrmModule.forRoot({
          ...dataSourceOptions(config, url),
          autoLoadEntities: true,
          retryAttempts: 3,
          retryDelay: 500,
        }),
      ],
      providers: [
        TeamScope,
        CacheInvalidation,
        PoolMetrics,
        {
          provide: CACHE_INVALIDATION_CONNECTION,
          // The listener's own connection (LISTEN needs one held for good): same URL and TLS as the pool.
          useValue: { connectionString: url, ssl: (dataSourceOptions(config, url) as PostgresConnectionOptions).ssl },
        },
      ],
      exports: [TeamScope, CacheInvalidation],
    };
  }
}
