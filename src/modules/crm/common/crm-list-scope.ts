import { AppException } from '../../../common/http/app.exception';
import { type Actor, actorUserId } from '../../../common/security/principal';
import { type CrmListQueryShape } from './crm-list-query.dto';
import { type CrmResourceDefinition } from './crm-resource.definition';

/** `assignedTo=me` becomes the caller's id (an API key is nobody: 400); `none` and ids pass through. */
export function resolveAssigneeFilter(actor: Actor, query: CrmListQueryShape): CrmListQueryShape {
  if (query.assignedTo !== 'me') return query;
  const userId = actorUserId(actor);
  if (!userId)
    throw AppException.validation('Invalid input: assignedTo=me needs a signed-in user (an API key is nobody)', [
      { field: 'assignedTo', errors: ['me is not available to API keys'] },
    ]);
  return { ...query, assignedTo: userId };
}

/**
 * The user whose records an agent or viewer may be limited to (agentVisibility 'assigned'), for a resource
 * whose rows are visible by assignee only; none for admins, keys and other resources.
 */
export function restrictedUser(def: CrmResourceDefinition, actor: Actor): string | null {
  const principal = actor.principal;
  if (!def.visibleByAssigneeOnly) return null;
  return principal?.kind === 'user' && principal.role !== 'admin' ? principal.userId : null;
}
