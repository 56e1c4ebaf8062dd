import { Global, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { APP_CONFIG } from '../../config/config.module';
import { type AppConfig } from '../../config/app-config';
import { throttlerOptions } from './rate-limit.guard';
import { RateLimitService } from './rate-limit.service';
import { RateLimitStorage } from './rate-limit.storage';

/**
 * @nestjs/throttler with the app's named throttlers and ONE storage (in process, or Redis when REDIS_URL is set)
 * that the throttler guards and RateLimitService share. The guards themselves are APP_GUARDs in AppModule, where
 * their order relative to authentication is set.
 */
@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => throttlerOptions(config, new RateLimitStorage(config.redisUrl)),
    }),
  ],
  providers: [RateLimitService],
  exports: [RateLimitService],
})
export class RateLimitModule {}
