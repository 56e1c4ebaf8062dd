import { Logger, Module, type OnModuleInit } from '@nestjs/common';
import { APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { FastifyInstance } from 'fastify';
import { IdempotencyKey } from './entities/idempotency-key.entity';
import { IdempotencyInterceptor, idempotencyOnSend } from './idempotency.interceptor';
import { IdempotencyService } from './idempotency.service';

/** `Idempotency-Key` on every POST under /v1 except /v1/auth/* (see README, "Idempotency-Key"). */
@Module({
  imports: [TypeOrmModule.forFeature([IdempotencyKey])],
  providers: [IdempotencyService, { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor }],
  exports: [IdempotencyService],
})
export class IdempotencyModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly service: IdempotencyService,
  ) {}

  onModuleInit(): void {
    // Route hooks are collected when Fastify becomes ready, so adding it here still covers every route.
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    fastify?.addHook('onSend', idempotencyOnSend(this.service, new Logger('Idempotency')));
  }
}
