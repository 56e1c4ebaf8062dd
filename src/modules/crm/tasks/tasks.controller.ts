import { Controller } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CrmController } from '../common/crm-resource.controller';
import { CreateTaskDto, TaskExportQuery, TaskListQuery, TaskResponse, UpdateTaskDto } from './dto/task.dto';
import { tasksDefinition } from './tasks.definition';
import { TasksService } from './tasks.service';

/** To-dos with a due date, a priority and an assignee, optionally linked to CRM records; reminders by mail. */
@ApiTags('tasks')
@Controller('tasks')
export class TasksController extends CrmController(tasksDefinition, {
  create: CreateTaskDto,
  update: UpdateTaskDto,
  listQuery: TaskListQuery,
  exportQuery: TaskExportQuery,
  response: TaskResponse,
}) {
  constructor(service: TasksService) {
    super(service);
  }
}
