import 'reflect-metadata';
import {
  type Ctor,
  controllerRoutes as routes,
  dtoErrors as errorsOf,
} from '../../../common/testing/controller-routes';
import { PERMISSION, type PermissionSpec, SENSITIVE } from '../../../common/security/decorators';
import { isValidScope } from '../../../common/security/principal';
import { activitiesResource } from '../activities/activities.resource';
import { CreateActivityDto } from '../activities/dto/activity.dto';
import { crmResourceController } from '../common/crm-resource.controller';
import { sortOptions } from '../common/crm-resource.definition';
import { CRM_CATALOGUE } from '../crm-catalogue';
import { CreateTaskDto, TaskListQuery } from '../tasks/dto/task.dto';
import { tasksResource } from '../tasks/tasks.resource';
import { TimelineQuery } from './dto/timeline.dto';
import { timelineControllers } from './timeline.controller';

describe.each([
  [
    'activities',
    crmResourceController(activitiesResource) as Ctor,
    activitiesResource.definition,
    activitiesResource.dtos.listQuery,
  ],
  ['tasks', crmResourceController(tasksResource) as Ctor, tasksResource.definition, tasksResource.dtos.listQuery],
] as const)('%s', (_name, controller, def, listQuery) => {
  it('has the generic routes, each with its permission on its own resource; delete and export are sensitive', () => {
    const byKey = new Map(routes(controller).map((r) => [`${r.method} ${r.path}`, r]));
    for (const key of ['GET /', 'GET export', 'GET :id', 'POST /', 'PATCH :id', 'DELETE :id', 'GET trash'])
      expect(byKey.has(key)).toBe(true);
    for (const route of byKey.values()) {
      const permission = Reflect.getMetadata(PERMISSION, route.handler) as PermissionSpec;
      expect(permission?.resource).toBe(def.resource);
    }
    expect(Reflect.getMetadata(SENSITIVE, byKey.get('DELETE :id')!.handler)).toBe('delete');
    expect(Reflect.getMetadata(SENSITIVE, byKey.get('GET export')!.handler)).toBe('export');
  });

  it('validates every filter and sort of the definition', () => {
    for (const sort of sortOptions(def.sorts)) expect(errorsOf(listQuery, { sort })).toEqual([]);
    expect(errorsOf(listQuery, { sort: 'title' })).toEqual(['sort']);
    for (const filter of def.filters)
      expect(errorsOf(listQuery, { [filter.param]: ['a', 'b'] })).toEqual([filter.param]);
  });

  it('scopes name the resource', () => {
    for (const action of ['read', 'write', 'delete', '*']) expect(isValidScope(`${def.resource}:${action}`)).toBe(true);
  });
});

describe('timeline routes', () => {
  it('one GET per timeline subject of the catalogue, each needing read on that resource; none sensitive', () => {
    const found = timelineControllers(CRM_CATALOGUE)
      .flatMap((c) => routes(c as Ctor).map((r) => ({ ...r, path: `${Reflect.getMetadata('path', c)}/${r.path}` })))
      .map((r) => {
        const permission = Reflect.getMetadata(PERMISSION, r.handler) as PermissionSpec;
        expect(Reflect.getMetadata(SENSITIVE, r.handler)).toBeUndefined();
        return `${r.method} ${r.path} ${permission.resource}:${permission.action}`;
      })
      .sort();
    expect(found).toEqual([
      'GET clients/:id/timeline clients:read',
      'GET escrows/:id/timeline escrows:read',
      'GET leads/:id/timeline leads:read',
      'GET listings/:id/timeline listings:read',
    ]);
  });

  it('takes limit and cursor only', () => {
    expect(errorsOf(TimelineQuery, { limit: '10', cursor: 'x' })).toEqual([]);
    expect(errorsOf(TimelineQuery, { limit: '0' })).toEqual(['limit']);
    expect(errorsOf(TimelineQuery, { kind: 'task' })).toEqual(['kind']);
  });
});

describe('activity and task DTO rules', () => {
  it('activity type is a closed list and required; duration is a whole number of minutes', () => {
    expect(errorsOf(CreateActivityDto, { type: 'call' })).toEqual([]);
    expect(errorsOf(CreateActivityDto, {})).toEqual(['type']);
    expect(errorsOf(CreateActivityDto, { type: 'fax' })).toEqual(['type']);
    expect(errorsOf(CreateActivityDto, { type: 'call', durationMinutes: -1 })).toEqual(['durationMinutes']);
    expect(errorsOf(CreateActivityDto, { type: 'call', durationMinutes: 2.5 })).toEqual(['durationMinutes']);
    expect(errorsOf(CreateActivityDto, { type: 'call', authorId: 'x' })).toEqual(['authorId']);
  });

  it('task dueAt is a strict ISO date-time with a zone; priority and status are closed lists', () => {
    expect(errorsOf(CreateTaskDto, { title: 't', dueAt: '2025-03-01T10:00:00Z' })).toEqual([]);
    expect(errorsOf(CreateTaskDto, { title: 't', dueAt: '2025-03-01T10:00:00' })).toEqual(['dueAt']);
    expect(errorsOf(CreateTaskDto, { title: 't', dueAt: '2025-02-30T10:00:00Z' })).toEqual(['dueAt']);
    expect(errorsOf(CreateTaskDto, { title: 't', priority: 'urgent' })).toEqual(['priority']);
    expect(errorsOf(CreateTaskDto, { title: 't', status: 'closed' })).toEqual(['status']);
    expect(errorsOf(CreateTaskDto, { title: 't', completedAt: '2025-03-01T10:00:00Z' })).toEqual(['completedAt']);
    expect(errorsOf(TaskListQuery, { overdue: 'yes' })).toEqual(['overdue']);
  });
});
