import { AppException } from '../../../common/http/app.exception';
import { type Keyset, keyset } from '../../../common/pagination/keyset';
import { utcIsoSql } from '../../../database/sql-time';
import { type ScopedStatement } from '../../../database/team-scope';
import { type AuditResourceType } from '../../audit/audit-chain';
import { type AuditOfChange } from '../../audit/audit.service';
import { teamMemberIdSql } from '../../users/users.module';
import { type CrmListQueryShape } from './crm-list-query.dto';
import { DEFAULT_SORT, type ReferenceSpec, type SortSpec } from './crm-resource.definition';
import { type CrmTable } from './crm-table';

/**
 * The SQL of the generic CRM resource, as pure functions of the table shape and the request: text and
 * parameters, no I/O. A change comes with the audit row it must be written with (`audit`), which the
 * executor (CrmResourceService) joins to it through AuditService.withAudit, so both are one statement.
 * `$1` is always the team: the explicit `team_id = $1` beside the row-level security of TeamScope.
 * Snapshots of what they generate: crm-statements.spec.ts.
 */

/** A change statement and the audit row it is written with. */
export interface AuditedStatement extends ScopedStatement {
  audit: AuditOfChange;
}

/** A CRM row in its API shape (camelCase, money as strings, dates as YYYY-MM-DD, timestamps as ISO text). */
export type CrmRow = Record<string, unknown> & { id: string };

/** The FKs (ON DELETE RESTRICT / NO ACTION) that point at a table: `table (team_id, column) → this (team_id, id)`. */
export interface Referrer {
  table: string;
  column: string;
}

/** One keyset page: the statement (limit + 1 rows) and what turns its rows into the page. */
export interface PageStatement {
  statement: ScopedStatement;
  finish: Keyset['finish'];
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function auditType(table: CrmTable): AuditResourceType {
  return table.definition.auditType as AuditResourceType;
}

// ------------------------------------------------------------------------------------------------- reads

/** One live row (`lock`: FOR UPDATE, for a read-modify-write). */
export function rowStatement(table: CrmTable, teamId: string, id: string, lock = false): ScopedStatement {
  return {
    sql: `SELECT ${table.selectList} FROM ${table.definition.table} WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL${lock ? ' FOR UPDATE' : ''}`,
    params: [teamId, id],
  };
}

/** Whether a live row is there (the second half of a delete: tells 412 from 404). */
export function liveVersionStatement(table: CrmTable, teamId: string, id: string): ScopedStatement {
  return {
    sql: `SELECT version FROM ${table.definition.table} WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL`,
    params: [teamId, id],
  };
}

/** A referenced id must be a live row of the caller's team (and visible to the caller). */
export function referenceStatement(ref: ReferenceSpec, teamId: string, id: unknown): ScopedStatement {
  return {
    sql: `SELECT 1 FROM ${ref.table} WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL`,
    params: [teamId, id],
  };
}

/** WHERE conditions and parameters of the filters and `q` (no cursor). `$1` is the team. */
export function filterClause(
  table: CrmTable,
  teamId: string,
  query: CrmListQueryShape,
): { where: string[]; params: unknown[] } {
  const params: unknown[] = [teamId];
  // The trash is never listed here (RLS hides it too, unless app.trash is on).
  const where = ['team_id = $1', 'deleted_at IS NULL'];
  const assignedTo = query.assignedTo;
  if (assignedTo === 'none') where.push('assigned_to IS NULL');
  else if (typeof assignedTo === 'string') {
    params.push(assignedTo);
    where.push(`assigned_to = $${params.length}::uuid`);
  }
  for (const filter of table.definition.filters) {
    const value = query[filter.param];
    if (value === undefined || value === null) continue;
    params.push(value);
    where.push(filter.where(`$${params.length}`));
  }
  if (query.q) {
    // `search` is lowercase already: LIKE on lower(pattern) selects what ILIKE did at a quarter of its cost per row.
    params.push(`%${escapeLike(query.q.toLowerCase())}%`);
    const pattern = `lower($${params.length})`;
    where.push(`search LIKE ${pattern}`);
    if (/[a-z0-9]{3}/.test(query.q.toLowerCase())) where.push(searchFence(table, pattern));
  }
  return { where, params };
}

/**
 * A redundant condition that lets `q` use the team's trigram index under row-level security (migration
 * 1733300004000): planned once per statement, it becomes `id = ANY ('{…}')` for a term with few matches and
 * vanishes for a common one (the list then walks its sort index). Only for terms with a trigram (a run of
 * three letters or digits); shorter ones stay a plain walk of the team, which finds common strings quickly.
 */
function searchFence(table: CrmTable, pattern: string): string {
  const ids = `crm_search_ids('${table.definition.table}', $1::uuid, ${pattern})`;
  return `(${ids} IS NULL OR id = ANY (${ids}))`;
}

/** The sort of a list (`-createdAt` by default); an unknown key is a 400. */
export function resolveSort(table: CrmTable, sort: string | undefined): { key: string; spec: SortSpec; desc: boolean } {
  const key = sort ?? DEFAULT_SORT;
  const desc = key.startsWith('-');
  const spec = table.definition.sorts[desc ? key.slice(1) : key];
  if (!spec)
    throw AppException.validation(
      `Invalid input: sort must be one of ${Object.keys(table.definition.sorts).join(', ')}`,
    );
  return { key, spec, desc };
}

/**
 * For an agent or viewer (`owner`), the statement as two branches of which exactly one runs (one-time filters
 * on the team's rule, which TeamScope set): everything under 'team', or `assigned_to = <user>` under
 * 'assigned', so the (team_id, assigned_to, created_at) index serves it instead of a scan of the team filtered
 * row by row by the RLS policy (a viewer with nothing assigned would otherwise read the whole team for an empty
 * page). The policy still decides; this only makes its answer cheap.
 */
function byVisibility(build: (extra: string) => string, params: unknown[], owner?: string | null): string {
  if (!owner) return build('');
  params.push(owner);
  const rule = `current_setting('app.agent_visibility', true)`;
  return `(${build(` AND ${rule} = 'team'`)})
      UNION ALL (${build(` AND ${rule} IS DISTINCT FROM 'team' AND assigned_to = $${params.length}::uuid`)})`;
}

/** One keyset page of the list: `limit` rows after the cursor plus one (to know whether another page exists). */
export function pageStatement(
  table: CrmTable,
  teamId: string,
  query: CrmListQueryShape,
  limit: number,
  owner?: string | null,
): PageStatement {
  const { where, params } = filterClause(table, teamId, query);
  const { key, spec, desc } = resolveSort(table, query.sort);
  // The cursor belongs to this resource and sort: one made for another list or order is refused.
  const scope = `${table.definition.resource}:${key}`;
  const page = keyset(params, { key: spec.expr, cast: spec.cast, desc, scope, limit, cursor: query.cursor });
  if (page.where) where.push(page.where);
  const sql = byVisibility(
    (extra) => `SELECT ${table.selectList}, ${page.select} FROM ${table.definition.table}
        WHERE ${where.join(' AND ')}${extra} ${page.tail}`,
    params,
    owner,
  );
  return { statement: { sql, params }, finish: (rows) => page.finish(rows) };
}

/** How many rows the list's filters match (at most `cap`, when given). */
export function countStatement(
  table: CrmTable,
  teamId: string,
  query: CrmListQueryShape,
  cap?: number,
  owner?: string | null,
): ScopedStatement {
  const { where, params } = filterClause(table, teamId, query);
  const inner = byVisibility(
    (extra) =>
      `SELECT 1 FROM ${table.definition.table} WHERE ${where.join(' AND ')}${extra}${cap ? ` LIMIT ${cap}` : ''}`,
    params,
    owner,
  );
  return { sql: `SELECT count(*)::int AS n FROM (${inner}) matching`, params };
}

/** The team's trashed rows, most recently deleted first, keyset-paginated. */
export function trashPageStatement(table: CrmTable, teamId: string, limit: number, cursor?: string): PageStatement {
  const params: unknown[] = [teamId];
  const page = keyset(params, {
    key: 'deleted_at',
    cast: 'timestamptz',
    desc: true,
    scope: `${table.definition.resource}:trash`,
    limit,
    cursor,
  });
  const where = ['team_id = $1', 'deleted_at IS NOT NULL'];
  if (page.where) where.push(page.where);
  return {
    statement: {
      sql: `SELECT ${table.selectList}, ${utcIsoSql('deleted_at', 'ms')} AS "deletedAt", ${page.select}
          FROM ${table.definition.table} WHERE ${where.join(' AND ')} ${page.tail}`,
      params,
    },
    finish: (rows) => page.finish(rows),
  };
}

// ------------------------------------------------------------------------------------------------- writes

/** Who writes: the creator columns of an insert. */
export interface Writer {
  userId: string | null;
  apiKeyId: string | null;
}

/**
 * INSERT … RETURNING the API row. assignedTo defaults to the creating user (null when an API key creates): looked
 * up in the same statement, so an actor that is no user of the team (a background job) leaves the record
 * unassigned instead of failing the foreign key — and no removal of that user can slip in between.
 */
export function insertStatement(
  table: CrmTable,
  teamId: string,
  writer: Writer,
  values: Record<string, unknown>,
): AuditedStatement {
  const columns = ['team_id', 'created_by', 'created_by_api_key'];
  const params: unknown[] = [teamId, writer.userId, writer.apiKeyId];
  for (const [property, value] of Object.entries(values)) {
    const info = table.settable.get(property);
    // null for a NOT NULL column with a default (status) means "the default".
    if (!info || value === undefined || (value === null && table.notNullFields.has(property))) continue;
    columns.push(`"${info.column}"`);
    params.push(value);
  }
  const placeholders = params.map((_, i) => `$${i + 1}`);
  if (values.assignedTo === undefined && table.settable.has('assignedTo') && writer.userId) {
    params.push(writer.userId);
    columns.push('assigned_to');
    placeholders.push(teamMemberIdSql('$1', `$${params.length}`));
  }
  return {
    sql: `INSERT INTO ${table.definition.table} (${columns.join(', ')}) VALUES (${placeholders.join(', ')}) RETURNING ${table.selectList}`,
    params,
    audit: { action: 'CREATE', resourceType: auditType(table), oldValues: null, newValues: 'changed' },
  };
}

/**
 * Applies `changes` to the row `old` (version + 1, updated_at), auditing the changed fields' old values. With
 * `expectedVersion`, the statement itself only matches that version.
 */
export function updateStatement(
  table: CrmTable,
  teamId: string,
  old: CrmRow,
  changes: Record<string, unknown>,
  expectedVersion?: number,
): AuditedStatement {
  const params: unknown[] = [teamId, old.id];
  let versionCheck = '';
  if (expectedVersion !== undefined) {
    params.push(expectedVersion);
    versionCheck = ` AND version = $${params.length}`;
  }
  const sets: string[] = [];
  for (const [property, value] of Object.entries(changes)) {
    const info = table.settable.get(property);
    if (!info) continue;
    params.push(value);
    sets.push(`"${info.column}" = $${params.length}`);
  }
  sets.push('updated_at = now()', 'version = version + 1');
  const fields = Object.keys(changes).filter((f) => table.settable.has(f));
  return {
    sql: `UPDATE ${table.definition.table} SET ${sets.join(', ')}
        WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL${versionCheck} RETURNING ${table.selectList}`,
    params,
    audit: {
      action: 'UPDATE',
      resourceType: auditType(table),
      oldValues: Object.fromEntries(fields.map((f) => [f, old[f] ?? null])),
      newValues: { fields },
    },
  };
}

/** Soft delete: deleted_at, version + 1; the audit row holds the record as it was. */
export function trashStatement(table: CrmTable, teamId: string, id: string, ifMatch?: number): AuditedStatement {
  const params: unknown[] = [teamId, id];
  if (ifMatch !== undefined) params.push(ifMatch);
  return {
    sql: `UPDATE ${table.definition.table} SET deleted_at = now(), version = version + 1
        WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL${ifMatch !== undefined ? ' AND version = $3' : ''}
        RETURNING ${table.selectListBeforeChange}`,
    params,
    audit: { action: 'DELETE', resourceType: auditType(table), oldValues: 'changed', newValues: null },
  };
}

/** Out of the trash (version + 1). */
export function restoreStatement(table: CrmTable, teamId: string, id: string): AuditedStatement {
  return {
    sql: `UPDATE ${table.definition.table} SET deleted_at = NULL, version = version + 1
        WHERE team_id = $1 AND id = $2 AND deleted_at IS NOT NULL RETURNING ${table.selectList}`,
    params: [teamId, id],
    audit: { action: 'RESTORE', resourceType: auditType(table), oldValues: null, newValues: 'changed' },
  };
}

/**
 * Deletes for good up to `batch` of the team's rows trashed before `cutoff`; a row still referenced by another
 * (ON DELETE RESTRICT) is kept until the reference goes.
 */
export function purgeStatement(
  table: CrmTable,
  teamId: string,
  cutoff: Date,
  referrers: readonly Referrer[],
  batch: number,
): AuditedStatement {
  const t = table.definition.table;
  const kept = referrers
    .map((r) => `NOT EXISTS (SELECT 1 FROM ${r.table} r WHERE r.team_id = t.team_id AND r.${r.column} = t.id)`)
    .join(' AND ');
  return {
    sql: `DELETE FROM ${t} WHERE id IN (
            SELECT t.id FROM ${t} t
             WHERE t.team_id = $1 AND t.deleted_at IS NOT NULL AND t.deleted_at < $2${kept ? ` AND ${kept}` : ''}
             ORDER BY t.deleted_at LIMIT ${batch})
          RETURNING ${table.selectList}`,
    params: [teamId, cutoff],
    audit: { action: 'PURGE', resourceType: auditType(table), oldValues: 'changed', newValues: null },
  };
}

/**
 * Gives a user's rows to `toUserId` (or nobody), version + 1. `which`: 'live' = the rows a reassignment moves
 * (not trashed, and matching the definition's reassignWhere); 'rest' = the user's other rows (trashed ones,
 * closed tasks), which a removal must release too.
 */
export function reassignStatement(
  table: CrmTable,
  teamId: string,
  fromUserId: string,
  toUserId: string | null,
  which: 'live' | 'rest',
): AuditedStatement {
  const def = table.definition;
  const live = `deleted_at IS NULL${def.reassignWhere ? ` AND (${def.reassignWhere})` : ''}`;
  return {
    sql: `UPDATE ${def.table} SET assigned_to = $3, version = version + 1, updated_at = now()
        WHERE team_id = $1 AND assigned_to = $2 AND ${which === 'live' ? live : `NOT (${live})`}
        RETURNING ${table.selectList}`,
    params: [teamId, fromUserId, toUserId],
    audit: {
      action: 'UPDATE',
      resourceType: auditType(table),
      oldValues: { assignedTo: fromUserId },
      newValues: { fields: ['assignedTo'] },
    },
  };
}
