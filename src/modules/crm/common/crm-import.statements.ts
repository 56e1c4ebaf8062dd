/**
 * The SQL of the CSV import (CrmImportService), as pure functions of the resource's table and columns: no
 * I/O, so each statement's text is pinned by a snapshot test (crm-import.statements.spec.ts). Table and
 * column names come from the resource definitions and entity metadata, never from a request; values always
 * travel as parameters ($n) or inside the one jsonb parameter read with jsonb_to_recordset.
 */

/** How one importable field is stored: its column, the cast of its jsonb value, its default for an empty cell. */
export interface ImportColumn {
  column: string;
  /** Cast of the json text value in jsonb_to_recordset. */
  sqlType: string;
  /** NOT NULL with a default: an empty cell means that default. */
  defaultSql: string | null;
}

/** A resource's table and the list of columns its statements return (the record as the API shows it). */
export interface ImportTarget {
  table: string;
  selectList: string;
}

/** First key of the two-key advisory lock that serialises the imports of one team ('CRMI'). */
export const TEAM_IMPORT_LOCK_NAMESPACE = 0x43524d49;

/**
 * One import per team at a time, across instances: tried without waiting, held until the import's transaction
 * ends (commit, rollback or a dropped connection). $1: the team id.
 */
export const TEAM_IMPORT_LOCK_SQL = `SELECT pg_try_advisory_xact_lock(${TEAM_IMPORT_LOCK_NAMESPACE}, hashtext($1)) AS locked`;

/** The team's live records among the ids ($1 team, $2 uuid[]): which referenced ids exist. */
export function referencedIdsSql(table: string): string {
  return `SELECT id::text AS id FROM ${table} WHERE team_id = $1 AND id = ANY($2::uuid[]) AND deleted_at IS NULL`;
}

/** The team's active users among the ids ($1 team, $2 uuid[]): which assignees exist. */
export const ACTIVE_ASSIGNEES_SQL = `SELECT id::text AS id FROM users WHERE team_id = $1 AND id = ANY($2::uuid[]) AND NOT disabled`;

/** Live records whose lower-cased email is among $2 (text[]), oldest first, locked for the update. */
export function existingByEmailSql(table: string): string {
  return `SELECT id, lower(email) AS k FROM ${table}
          WHERE team_id = $1 AND deleted_at IS NULL AND lower(email) = ANY($2::text[])
          ORDER BY created_at, id FOR UPDATE`;
}

/**
 * Live records whose phone ends with one of the 7-digit tails in $2 (text[]), oldest first, locked for the
 * update. Stored phones are free-form, so the E.164 comparison is done by the caller on these candidates.
 */
export function existingByPhoneSql(table: string): string {
  return `SELECT id, phone FROM ${table}
        WHERE team_id = $1 AND deleted_at IS NULL AND phone IS NOT NULL
          AND right(regexp_replace(phone, '\\D', '', 'g'), 7) = ANY($2::text[])
        ORDER BY created_at, id FOR UPDATE`;
}

/** The jsonb_to_recordset column list matching `recordsetJson`: n (row order), c0…cN, and rid for updates. */
export function recordsetColumns(columns: readonly ImportColumn[], withId: boolean): string {
  return ['n int', ...columns.map((c, j) => `c${j} ${c.sqlType}`), ...(withId ? ['rid uuid'] : [])].join(', ');
}

/**
 * The rows as one jsonb array keyed n (file order, counted from `first`), c0…cN (absent for an empty cell) and
 * rid (the record to update). `properties[j]` is the row property of column j.
 */
export function recordsetJson(
  properties: readonly string[],
  rows: readonly Record<string, unknown>[],
  ids?: readonly string[],
  first = 0,
): string {
  return JSON.stringify(
    rows.map((values, i) => {
      const o: Record<string, unknown> = { n: first + i };
      properties.forEach((property, j) => {
        const v = values[property];
        if (v !== undefined && v !== null) o[`c${j}`] = v;
      });
      if (ids) o.rid = ids[i];
      return o;
    }),
  );
}

/**
 * INSERT … SELECT FROM jsonb_to_recordset in file order, returning each record as the API shows it.
 * $1 team, $2 the importing user (or null), $3 the importing API key (or null), $4 the rows (recordsetJson).
 */
export function insertSql(target: ImportTarget, columns: readonly ImportColumn[]): string {
  const targets = ['team_id', 'created_by', 'created_by_api_key', ...columns.map((c) => `"${c.column}"`)];
  const values = [
    '$1::uuid',
    '$2::uuid',
    '$3::uuid',
    ...columns.map((c, j) => (c.defaultSql ? `coalesce(r.c${j}, ${c.defaultSql})` : `r.c${j}`)),
  ];
  return `INSERT INTO ${target.table} (${targets.join(', ')})
        SELECT ${values.join(', ')} FROM jsonb_to_recordset($4::jsonb) AS r(${recordsetColumns(columns, false)}) ORDER BY r.n
        RETURNING ${target.selectList}`;
}

/**
 * UPDATE … FROM the merged rows: each matched live record of the team gets the row's non-empty cells, its
 * version + 1. The FROM subquery reads each record as it was (API shape) into `_previous`, so its audit row
 * (and webhook `previous`) carries that record's own old values. $1 team, $2 the rows (recordsetJson with ids).
 */
export function updateSql(target: ImportTarget, columns: readonly ImportColumn[]): string {
  const t = target.table;
  const sets = columns.map((c, j) => `"${c.column}" = coalesce(r.c${j}, ${t}."${c.column}")`);
  sets.push('updated_at = now()', 'version = version + 1');
  return `UPDATE ${t} SET ${sets.join(', ')}
        FROM (SELECT r.*, (SELECT to_jsonb(p) FROM (SELECT ${target.selectList}) p) AS _previous
                FROM ${t} x JOIN jsonb_to_recordset($2::jsonb) AS r(${recordsetColumns(columns, true)}) ON x.id = r.rid
               WHERE x.team_id = $1 AND x.deleted_at IS NULL) AS r
        WHERE ${t}.team_id = $1 AND ${t}.id = r.rid AND ${t}.deleted_at IS NULL
        RETURNING ${target.selectList}, r._previous AS "_previous"`;
}

const CHANGED_TAIL = 'SELECT * FROM changed';

/**
 * An audited statement (AuditService.withAudit, ending in `SELECT * FROM changed`) that returns only how many
 * rows it changed instead of shipping every changed row back; undefined for any other statement.
 */
export function countChangedSql(audited: string): string | undefined {
  const trimmed = audited.trimEnd();
  if (!trimmed.endsWith(CHANGED_TAIL)) return undefined;
  return `${trimmed.slice(0, -CHANGED_TAIL.length)}SELECT count(*)::int AS n FROM changed`;
}
