import { utcIsoSql } from '../../../database/sql-time';
import { SYSTEM_FIELDS } from './crm-record.entity';
import { type CrmResourceDefinition } from './crm-resource.definition';

export interface ColumnInfo {
  property: string;
  column: string;
  /** The SELECT expression producing the API value. */
  select: string;
}

/** What the CSV import reads of a table (CrmResourceService.importShape). */
export interface CrmImportShape {
  selectList: string;
  /** Writable property → column. */
  writable: ReadonlyMap<string, string>;
  requiredFields: ReadonlySet<string>;
  notNullFields: ReadonlySet<string>;
}

/** What the shape needs of a TypeORM column (so it is built from entity metadata, or from a spec's fixture). */
export interface ColumnSource {
  propertyName: string;
  databaseName: string;
  type: unknown;
  scale?: number;
  isNullable: boolean;
  default?: unknown;
}

/**
 * A resource's table as the statement builders see it: the definition and the columns of its entity, with the
 * SELECT list producing the API shape and which properties a body or the server may set.
 */
export interface CrmTable {
  definition: CrmResourceDefinition;
  columns: ColumnInfo[];
  /** The SELECT list producing the API shape (unqualified columns). */
  selectList: string;
  /** The same, with the version before the change (a soft delete's RETURNING reports the record as it was). */
  selectListBeforeChange: string;
  /** Properties a request body may set. */
  writable: Map<string, ColumnInfo>;
  /** Properties the server may set (writable + read-only ones such as a client's leadId). */
  settable: Map<string, ColumnInfo>;
  /** NOT NULL without a default: a create must provide them. */
  requiredFields: Set<string>;
  /** NOT NULL: a PATCH cannot set them to null. */
  notNullFields: Set<string>;
  /** CSV columns: every API field. */
  exportColumns: string[];
}

/**
 * The table shape from the entity's columns. `extra` adds read-only aliases to the API shape (an activity's
 * authorId), to the list SELECT and the export only.
 */
export function crmTable(
  definition: CrmResourceDefinition,
  source: readonly ColumnSource[],
  extra?: { select: string; fields: string[] },
): CrmTable {
  const system = new Set<string>(SYSTEM_FIELDS);
  const infos: ColumnInfo[] = [];
  const writable = new Map<string, ColumnInfo>();
  const settable = new Map<string, ColumnInfo>();
  const requiredFields = new Set<string>();
  const notNullFields = new Set<string>();
  for (const col of source) {
    // Never in the API shape: the team (from the caller) and the trash marker (the trash list adds it).
    if (col.propertyName === 'teamId' || col.propertyName === 'deletedAt') continue;
    const quoted = `"${col.databaseName}"`;
    let select = quoted;
    const type = String(col.type);
    // Every value leaves Postgres in its API form (so the audit trigger's to_jsonb of a row is the API's JSON
    // too, and no Date is parsed and re-printed per row): dates and timestamps as ISO text, money (scale 2)
    // as an exact decimal string, other decimals (bathrooms) as plain numbers.
    if (type === 'date') select = `to_char(${quoted}, 'YYYY-MM-DD')`;
    else if (type === 'timestamptz' || type === 'timestamp with time zone') select = utcIsoSql(quoted, 'ms');
    else if (type === 'numeric' || type === 'decimal')
      select = col.scale === 2 ? `${quoted}::text` : `${quoted}::float8`;
    const info: ColumnInfo = {
      property: col.propertyName,
      column: col.databaseName,
      select: `${select} AS "${col.propertyName}"`,
    };
    infos.push(info);
    if (!system.has(col.propertyName)) {
      settable.set(col.propertyName, info);
      if (!definition.readOnly.includes(col.propertyName)) writable.set(col.propertyName, info);
      if (!col.isNullable) notNullFields.add(col.propertyName);
      if (!col.isNullable && col.default === undefined) requiredFields.add(col.propertyName);
    }
  }
  // id first, the resource's own fields, then the bookkeeping columns.
  const rank = (p: string) => (p === 'id' ? 0 : system.has(p) ? 2 : 1);
  const columns = infos.sort((a, b) => rank(a.property) - rank(b.property));
  const selectList = columns.map((c) => c.select).join(', ');
  return {
    definition,
    columns,
    selectList: extra ? `${selectList}, ${extra.select}` : selectList,
    selectListBeforeChange: columns
      .map((c) => (c.property === 'version' ? `("version" - 1) AS "version"` : c.select))
      .join(', '),
    writable,
    settable,
    requiredFields,
    notNullFields,
    exportColumns: [...columns.map((c) => c.property), ...(extra?.fields ?? [])],
  };
}
