import { TASK_DUE_SORT } from '../../../../migrations/1733300001000-activities-tasks';
import { LINK_REFERENCES } from '../activities/activities.definition';
import { COMMON_SORTS, type CrmResourceDefinition, sortOptions } from '../common/crm-resource.definition';
import { Task } from './task.entity';

/** Open and past due: what `overdue=true` selects. */
const OVERDUE = `(status = 'open' AND due_at < now())`;

export const tasksDefinition: CrmResourceDefinition = {
  resource: 'tasks',
  auditType: 'task',
  label: 'Task',
  table: 'tasks',
  entity: Task,
  // dueAt: soonest first; tasks without a due date come after all dated ones (before them when descending).
  sorts: { ...COMMON_SORTS, dueAt: { expr: TASK_DUE_SORT, cast: 'timestamptz' } },
  filters: [
    { param: 'status', where: (p) => `status = ${p}` },
    { param: 'priority', where: (p) => `priority = ${p}` },
    // Half-open window: dueAfter <= dueAt < dueBefore, so adjacent windows never share a task.
    { param: 'dueBefore', where: (p) => `due_at < ${p}::timestamptz` },
    { param: 'dueAfter', where: (p) => `due_at >= ${p}::timestamptz` },
    // The value is inlined as a literal by TeamScope.batch, so the planner folds the branch not taken.
    {
      param: 'overdue',
      where: (p) => `(CASE WHEN ${p}::boolean THEN ${OVERDUE} ELSE NOT coalesce(${OVERDUE}, false) END)`,
    },
    { param: 'clientId', where: (p) => `client_id = ${p}::uuid` },
    { param: 'leadId', where: (p) => `lead_id = ${p}::uuid` },
    { param: 'listingId', where: (p) => `listing_id = ${p}::uuid` },
    { param: 'escrowId', where: (p) => `escrow_id = ${p}::uuid` },
  ],
  searchFields: ['title', 'notes'],
  references: LINK_REFERENCES,
  readOnly: ['completedAt'],
  // A reassignment hands over the open tasks; done and cancelled ones keep their history.
  reassignWhere: "status = 'open'",
  constraintMessages: {
    tasks_status_check: 'status must be one of open, done, cancelled',
    tasks_priority_check: 'priority must be one of low, normal, high',
    tasks_notes_length: 'notes must be at most 10000 characters',
  },
};

export const TASK_SORTS = sortOptions(tasksDefinition.sorts);
