import { defineCrmEntry } from '../common/crm-resource.entry';
import { activitiesDefinition } from './activities.definition';
import { ActivitiesService } from './activities.service';
import {
  ActivityExportQuery,
  ActivityListQuery,
  ActivityResponse,
  CreateActivityDto,
  UpdateActivityDto,
} from './dto/activity.dto';

export const activitiesResource = defineCrmEntry({
  definition: activitiesDefinition,
  dtos: {
    create: CreateActivityDto,
    update: UpdateActivityDto,
    listQuery: ActivityListQuery,
    exportQuery: ActivityExportQuery,
    response: ActivityResponse,
  },
  service: ActivitiesService,
});
