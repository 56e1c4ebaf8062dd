import { Type } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { CrmModule } from './crm/crm.module';
import { UsersAdminModule } from './users/users-admin.module';

/** Feature modules mounted by AppModule; each issue's module is added here. */
export const FEATURE_MODULES: Type<unknown>[] = [AuditModule, CrmModule, UsersAdminModule];
