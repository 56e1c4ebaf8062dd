import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module';
import { crmImportController } from './common/crm-import.controller';
import { CrmImportService } from './common/crm-import.service';
import { CrmResourceRegistry } from './common/crm-registry';
import { crmResourceController } from './common/crm-resource.controller';
import { CrmTrashPurge } from './common/crm-trash-purge.service';
import { RecordAssignmentService } from './common/record-assignment.service';
import { CRM_CATALOGUE } from './crm-catalogue';
import { timelineControllers } from './timeline/timeline.controller';
import { TimelineService } from './timeline/timeline.service';

/**
 * The CRM resources of the catalogue (crm-resources.ts), each a thin specialisation of the generic team-scoped
 * resource in ./common: for each, its entity, its service, its routes (the generic ones, its own, CSV import
 * when importable, the timeline when it is a timeline subject) and its extra providers.
 */
@Module({
  imports: [TypeOrmModule.forFeature(CRM_CATALOGUE.map((e) => e.definition.entity)), DiscoveryModule, UsersModule],
  controllers: [
    ...CRM_CATALOGUE.flatMap((e) => [crmResourceController(e), ...(e.controllers ?? [])]),
    // GET /v1/<resource>/:id/timeline
    ...timelineControllers(CRM_CATALOGUE),
    // POST /v1/<resource>/import (CSV)
    ...CRM_CATALOGUE.filter((e) => e.definition.importable).map(crmImportController),
  ],
  providers: [
    ...CRM_CATALOGUE.flatMap((e) => [e.service, ...(e.providers ?? [])]),
    TimelineService,
    CrmImportService,
    // Assignment hand-over and the trash purge, over every registered CRM-pattern resource.
    CrmResourceRegistry,
    RecordAssignmentService,
    CrmTrashPurge,
  ],
  exports: [...CRM_CATALOGUE.map((e) => e.service), RecordAssignmentService, CrmTrashPurge],
})
export class CrmModule {}
