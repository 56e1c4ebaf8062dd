import { type Type } from '@nestjs/common';
import { type CrmResource } from '../../../common/security/principal';
import { type AuditResourceType } from '../../audit/audit-chain';
import { type CrmRecord } from './crm-record.entity';

/** How a sort key is compared and carried in a cursor. */
export type SortCast = 'timestamptz' | 'text' | 'numeric' | 'date';

export interface SortSpec {
  /** SQL expression of the key; must be NOT NULL (keyset pagination) and backed by an index `(team_id, expr, id)`. */
  expr: string;
  cast: SortCast;
}

export interface FilterSpec {
  /** Query parameter name (validated by the resource's list query DTO). */
  param: string;
  /** The condition, given the placeholder (`$3`) holding the value. */
  where: (placeholder: string) => string;
}

export interface ReferenceSpec {
  /** Body field holding the id (`clientId`). */
  field: string;
  /** Table the id must be in, for the caller's team. */
  table: string;
  /** For messages: "client". */
  noun: string;
}

/**
 * What makes one CRM resource different from the others. The generic service and controller do the rest
 * (lists with keyset pagination, search, filters, CRUD in a team scope with its audit row, CSV export).
 */
export interface CrmResourceDefinition {
  /** Route (`/v1/clients`), permission resource and API-key scope name. */
  resource: CrmResource;
  /** The audit log's resource type (singular). */
  auditType: AuditResourceType;
  /** "Client", for messages and docs. */
  label: string;
  table: string;
  entity: Type<CrmRecord>;
  /** Sort keys (without the leading `-` for descending). `createdAt` is always there and is the default, descending. */
  sorts: Record<string, SortSpec>;
  filters: FilterSpec[];
  /** API fields that feed the generated `search` column (documentation of `q`). */
  searchFields: string[];
  /** Ids in bodies that must belong to the caller's team (else 404). */
  references: ReferenceSpec[];
  /** Fields shown but set only by the server (e.g. a client's leadId). */
  readOnly: string[];
  /** Messages for CHECK and UNIQUE constraint names, so a violation becomes a clear 400 or 409. */
  constraintMessages: Record<string, string>;
  /**
   * Which of a user's live rows a reassignment (POST /v1/users/:id/reassign, DELETE /v1/users/:id?reassignTo=)
   * moves, as an SQL condition on the table (tasks: `status = 'open'`); default every live row. Rows it does not
   * move are unassigned when the user is removed.
   */
  reassignWhere?: string;
  /**
   * True when the table's read policy is `crm_visible(assigned_to)` alone (the five CRM tables): then an agent's
   * or viewer's list under 'assigned' is exactly `assigned_to = <user>` and is run that way, on the assignee
   * index. Leave it off where rows are also visible through a linked record (activities, tasks).
   */
  visibleByAssigneeOnly?: boolean;
}

export const COMMON_SORTS: Record<string, SortSpec> = {
  createdAt: { expr: 'created_at', cast: 'timestamptz' },
  updatedAt: { expr: 'updated_at', cast: 'timestamptz' },
};

export const DEFAULT_SORT = '-createdAt';

/** Every accepted `sort` value: each key ascending and descending. */
export function sortOptions(sorts: Record<string, SortSpec>): string[] {
  return Object.keys(sorts).flatMap((k) => [k, `-${k}`]);
}
