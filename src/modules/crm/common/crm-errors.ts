import { AppException } from '../../../common/http/app.exception';
import { type CrmResourceDefinition } from './crm-resource.definition';

interface PgError {
  code?: string;
  constraint?: string;
  column?: string;
  message?: string;
}

export function assigneeNotFound(field = 'assignedTo'): AppException {
  return new AppException('NOT_FOUND', `${field}: no such active user in your team`, [
    { field, errors: ['no such active user in your team'] },
  ]);
}

/** 412: the If-Match version is not the record's current one (`current`, when known). */
export function preconditionFailed(def: CrmResourceDefinition, current?: number): AppException {
  return new AppException(
    'PRECONDITION_FAILED',
    `If-Match does not match this ${def.label.toLowerCase()}'s current version${current ? ` (${current})` : ''}; read it again and retry`,
  );
}

/** Turns a constraint violation of a write into the contract's error with a message that names the problem. */
export function translateCrmError(def: CrmResourceDefinition, kind: 'write' | 'delete', err: unknown): unknown {
  if (err instanceof AppException) return err;
  const pg = err as PgError;
  const known = pg.constraint ? def.constraintMessages[pg.constraint] : undefined;
  const noun = def.label.toLowerCase();
  switch (pg.code) {
    case '23514':
      return AppException.validation(`Invalid input: ${known ?? 'a value is out of the allowed range'}`);
    case '23502':
      return AppException.validation(`Invalid input: ${pg.column ?? 'a required field'} is required`);
    case '23505':
      return AppException.conflict(known ?? `A ${noun} with these values already exists`);
    case '42501':
      // The new row fails the read policy: under agentVisibility 'assigned' an agent gave a record away.
      if (pg.message?.includes('row-level security'))
        return AppException.forbidden(
          "Under the team's agentVisibility 'assigned' you can only assign records to yourself",
        );
      return err;
    case '23001': // restrict_violation: ON DELETE RESTRICT
    case '23503':
      if (kind === 'delete') {
        return AppException.conflict(
          `This ${noun} is still referenced by other records (appointments or escrows); remove those links first`,
        );
      }
      if (pg.constraint?.endsWith('_assigned_to_fk')) return assigneeNotFound();
      return new AppException('NOT_FOUND', 'A referenced record was not found in your team');
    default:
      return err;
  }
}
