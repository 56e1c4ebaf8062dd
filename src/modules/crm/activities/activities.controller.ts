import { Controller } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CrmController } from '../common/crm-resource.controller';
import { activitiesDefinition } from './activities.definition';
import { ActivitiesService } from './activities.service';
import {
  ActivityExportQuery,
  ActivityListQuery,
  ActivityResponse,
  CreateActivityDto,
  UpdateActivityDto,
} from './dto/activity.dto';

/** Calls, mails, texts, notes, meetings and showings logged against clients, leads, listings and escrows. */
@ApiTags('activities')
@Controller('activities')
export class ActivitiesController extends CrmController(activitiesDefinition, {
  create: CreateActivityDto,
  update: UpdateActivityDto,
  listQuery: ActivityListQuery,
  exportQuery: ActivityExportQuery,
  response: ActivityResponse,
}) {
  constructor(service: ActivitiesService) {
    super(service);
  }
}
