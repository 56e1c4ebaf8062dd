import { defineCrmEntry } from '../common/crm-resource.entry';
import { TaskReminderJob } from './task-reminder.job';
import { tasksDefinition } from './tasks.definition';
import { TasksService } from './tasks.service';
import { TaskExportQuery, TaskListQuery, TaskResponse, CreateTaskDto, UpdateTaskDto } from './dto/task.dto';

export const tasksResource = defineCrmEntry({
  definition: tasksDefinition,
  dtos: {
    create: CreateTaskDto,
    update: UpdateTaskDto,
    listQuery: TaskListQuery,
    exportQuery: TaskExportQuery,
    response: TaskResponse,
  },
  service: TasksService,
  // Mails the assignee before a task is due.
  providers: [TaskReminderJob],
});
