import { type Type } from '@nestjs/common';
import { type CrmCatalogueEntry } from '../../../common/resources/crm-catalogue';
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

/** Fields a CSV import can deduplicate on. */
export type DedupeKey = 'email' | 'phone';

/**
 * How a resource takes part in timelines: a `subject` has GET /v1/<resource>/:id/timeline and is linked from
 * entries through `linkColumn`; an `entry` (activity, appointment, task) appears on the timeline of every
 * subject whose link column its table has, at `at` (an SQL expression over its row).
 */
export type TimelineRole = { role: 'subject'; linkColumn: string } | { role: 'entry'; at: string };

/**
 * What makes one CRM resource different from the others. The generic service and controller do the rest
 * (lists with keyset pagination, search, filters, CRUD in a team scope with its audit row, CSV export).
 * Declared with `defineCrmResource` (which keeps the names as literal types for the catalogue).
 */
export interface CrmResourceDefinition<R extends string = string, A extends string = string> {
  /** Route (`/v1/clients`), permission resource and API-key scope name. */
  resource: R;
  /** The audit log's resource type (singular). */
  auditType: A;
  /** Prefix of its webhook event types (`client.created` …). */
  webhookType: string;
  /** Webhook events beyond the four changes, full names (`lead.converted`), emitted by the resource's service. */
  extraWebhookEvents?: string[];
  /** POST /v1/<resource>/import, and what it may deduplicate on; absent: not importable. */
  importable?: { dedupeKeys: DedupeKey[] };
  timeline?: TimelineRole;
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

export function defineCrmResource<const R extends string, const A extends string>(
  definition: CrmResourceDefinition<R, A>,
): CrmResourceDefinition<R, A> {
  return definition;
}

/** The names the rest of the application reads (common/resources/crm-catalogue.ts). */
export function catalogueEntryOf(def: CrmResourceDefinition): CrmCatalogueEntry {
  return {
    resource: def.resource,
    auditType: def.auditType,
    webhookType: def.webhookType,
    extraWebhookEvents: def.extraWebhookEvents ?? [],
    label: def.label,
    importable: def.importable !== undefined,
    dedupeKeys: def.importable?.dedupeKeys ?? [],
    timeline: def.timeline?.role === 'subject',
  };
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
