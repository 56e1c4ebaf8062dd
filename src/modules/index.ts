import { type Type } from '@nestjs/common';
import { AlertsModule } from './alerts/alerts.module';
import { AnomalyModule } from './anomaly/anomaly.module';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { ConsoleModule } from './console/console.module';
import { CrmModule } from './crm/crm.module';
import { HoneypotModule } from './honeypot/honeypot.module';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { MfaModule } from './mfa/mfa.module';
import { TeamsModule } from './teams/teams.module';
import { UsersAdminModule } from './users-admin/users-admin.module';
import { WebhooksModule } from './webhooks/webhooks.module';

/** Feature modules mounted by AppModule; each issue's module is added here. */
export const FEATURE_MODULES: Type<unknown>[] = [
  AuthModule,
  MfaModule,
  ApiKeysModule,
  AuditModule,
  CrmModule,
  UsersAdminModule,
  TeamsModule,
  HoneypotModule,
  AlertsModule,
  AnomalyModule,
  ConsoleModule,
  IdempotencyModule,
  WebhooksModule,
];
