import { LINK_REFERENCES } from '../activities/activities.definition';
import { COMMON_SORTS, defineCrmResource, sortOptions } from '../common/crm-resource.definition';
import { Task } from './task.entity';

/*
 * Copies of expressions migration 1733300001000 indexes (a migration is frozen history, so runtime code keeps its
 * own copy): a query uses those indexes only while the text matches. test/schema-constants.e2e-spec.ts checks it.
 */
/** A task's place on a timeline (and its index key): when it is due, else when it was created. */
export const TASK_TIMELINE_AT = 'coalesce(due_at, created_at)';
/** The dueAt sort key: tasks without a due date sort after every dated one (keyset needs a non-null key). */
export const TASK_DUE_SORT = `coalesce(due_at, '9999-12-31T00:00:00Z'::timestamptz)`;

/** Open and past due: what `overdue=true` selects. */
const OVERDUE = `(status = 'open' AND due_at < now())`;

export const tasksDefinition = defineCrmResource({
  resource: 'tasks',
  auditType: 'task',
  webhookType: 'task',
  // On a timeline at its due date, else when it was created.
  timeline: { role: 'entry', at: TASK_TIMELINE_AT },
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
});

export const TASK_SORTS = sortOptions(tasksDefinition.sorts);
