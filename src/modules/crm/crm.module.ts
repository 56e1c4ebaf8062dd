import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppointmentsController } from './appointments/appointments.controller';
import { Appointment } from './appointments/appointment.entity';
import { AppointmentsService } from './appointments/appointments.service';
import { ClientsController } from './clients/clients.controller';
import { Client } from './clients/client.entity';
import { ClientsService } from './clients/clients.service';
import { CrmResourceRegistry } from './common/crm-registry';
import { CrmTrashPurge } from './common/crm-trash-purge.service';
import { RecordAssignmentService } from './common/record-assignment.service';
import { EscrowsController } from './escrows/escrows.controller';
import { Escrow } from './escrows/escrow.entity';
import { EscrowsService } from './escrows/escrows.service';
import { LeadsController } from './leads/leads.controller';
import { Lead } from './leads/lead.entity';
import { LeadsService } from './leads/leads.service';
import { ListingsController } from './listings/listings.controller';
import { Listing } from './listings/listing.entity';
import { ListingsService } from './listings/listings.service';
import { ActivitiesController } from './activities/activities.controller';
import { Activity } from './activities/activity.entity';
import { ActivitiesService } from './activities/activities.service';
import { TaskReminderJob } from './tasks/task-reminder.job';
import { Task } from './tasks/task.entity';
import { TasksController } from './tasks/tasks.controller';
import { TasksService } from './tasks/tasks.service';
import { TimelineController } from './timeline/timeline.controller';
import { TimelineService } from './timeline/timeline.service';
import { CRM_IMPORT_CONTROLLERS } from './common/crm-import.controller';
import { CrmImportService } from './common/crm-import.service';

/** The five CRM resources, each a thin specialisation of the generic team-scoped resource in ./common. */
@Module({
  imports: [TypeOrmModule.forFeature([Client, Lead, Appointment, Escrow, Listing, Activity, Task]), DiscoveryModule],
  controllers: [
    ClientsController,
    LeadsController,
    AppointmentsController,
    EscrowsController,
    ListingsController,
    ActivitiesController,
    TasksController,
    // GET /v1/<clients|leads|listings|escrows>/:id/timeline
    TimelineController,
    // POST /v1/<resource>/import (CSV), one per resource.
    ...CRM_IMPORT_CONTROLLERS,
  ],
  providers: [
    ClientsService,
    LeadsService,
    AppointmentsService,
    EscrowsService,
    ListingsService,
    ActivitiesService,
    TasksService,
    TimelineService,
    TaskReminderJob,
    CrmImportService,
    // Assignment hand-over and the trash purge, over every registered CRM-pattern resource.
    CrmResourceRegistry,
    RecordAssignmentService,
    CrmTrashPurge,
  ],
  exports: [
    ClientsService,
    LeadsService,
    AppointmentsService,
    EscrowsService,
    ListingsService,
    ActivitiesService,
    TasksService,
    RecordAssignmentService,
    CrmTrashPurge,
  ],
})
export class CrmModule {}
