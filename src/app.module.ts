import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { ScheduleModule } from '@nestjs/schedule';
import { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { AllExceptionsFilter } from './common/http/all-exceptions.filter';
import { EnvelopeInterceptor } from './common/http/envelope.interceptor';
import { RateLimitModule } from './common/rate-limit/rate-limit.module';
import { REQUEST_GUARDS, RequestGate, RequestGateGuard } from './common/security/request-gate';
import { loggerOptions } from './common/logging/logger-options';
import { GracefulDrainModule } from './common/http/graceful-drain';
import { RequestTimeoutsModule } from './common/http/request-timeouts';
import { HealthModule } from './health/health.module';
import { DataKeysModule } from './modules/data-keys/data-keys.module';
import { SecurityEventsModule } from './modules/security-events/security-events.module';
import { NotificationsModule } from './modules/notifications/notifications.module';
import { PasswordsModule } from './modules/passwords/passwords.module';
import { FEATURE_MODULES } from './modules';
import { type Clock } from './common/time/clock';
import { ClockModule } from './common/time/clock.module';
import { MetricsModule } from './common/metrics/metrics.module';

export interface AppModuleOptions {
  config: AppConfig;
  databaseUrl: string;
  /** Tests pass a ManualClock; the system clock otherwise. */
  clock?: Clock;
}

@Module({})
export class AppModule {
  static forRoot({ config, databaseUrl, clock }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        ClockModule.forRoot(clock),
        MetricsModule,
        LoggerModule.forRoot(loggerOptions(config)),
        ScheduleModule.forRoot(),
        DatabaseModule.forRoot(config, databaseUrl),
        DataKeysModule,
        RateLimitModule,
        GracefulDrainModule,
        RequestTimeoutsModule,
        SecurityEventsModule,
        NotificationsModule,
        PasswordsModule,
        HealthModule,
        ...FEATURE_MODULES,
      ],
      providers: [
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_INTERCEPTOR, useClass: EnvelopeInterceptor },
        // The guards run from the request's head, before its body is read (RequestGate, installed by
        // createApp), in REQUEST_GUARDS' order: the IP's limits before credentials (a flood is refused before
        // any credential work), credentials before an API key's own budget (a wrong secret is charged to the
        // IP, never to the key it names), and all of them before permissions.
        ...REQUEST_GUARDS,
        RequestGate,
        { provide: APP_GUARD, useClass: RequestGateGuard },
      ],
    };
  }
}
