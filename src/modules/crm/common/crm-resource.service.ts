import { type OnModuleInit } from '@nestjs/common';
import { Readable } from 'node:stream';
import { type EntityManager } from 'typeorm';
import { AppException } from '../../../common/http/app.exception';
import { Page } from '../../../common/http/envelope';
import { keyset } from '../../../common/pagination/keyset';
import { DEFAULT_PAGE_SIZE } from '../../../common/pagination/pagination-query.dto';
import { type Actor, actorApiKeyId, actorUserId } from '../../../common/security/principal';
import { oneRow, queryRows } from '../../../database/query-rows';
import { utcIsoSql } from '../../../database/sql-time';
import { type ScopedStatement, type TeamScope } from '../../../database/team-scope';
import { type SecurityEventsService, eventContext } from '../../security-events/security-events.service';
import { type AuditService } from '../../audit/audit.service';
import { SYSTEM_FIELDS } from './crm-record.entity';
import { type CrmResourceDefinition, DEFAULT_SORT, type SortSpec } from './crm-resource.definition';
import { type CrmListQueryShape, TOTAL_CAP } from './crm-list-query.dto';

/** A CRM row in its API shape (camelCase, money as strings, dates as YYYY-MM-DD, timestamps as ISO text, all made by the SELECT). */
export type CrmRow = Record<string, unknown> & { id: string };

interface ColumnInfo {
  property: string;
  column: string;
  /** The SELECT expression producing the API value. */
  select: string;
}

/** Rows fetched per round trip while streaming an export. */
const EXPORT_BATCH = 500;
/** An export over this many rows also writes `data_export_large` (high). */
export const LARGE_EXPORT_ROWS = 1000;

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

interface PgError {
  code?: string;
  constraint?: string;
  column?: string;
}

/**
 * The generic team-scoped resource: every query runs in TeamScope (role app_tenant + app.team_id, so row-level
 * security backs up the explicit `team_id = $1`), lists are lean raw selects aliased straight to the API shape,
 * and each mutation writes its audit row in the same transaction.
 *
 * Subclasses (one per resource) add hooks and special routes; the columns come from the resource's entity.
 */
export abstract class CrmResourceService implements OnModuleInit {
  protected columns: ColumnInfo[] = [];
  protected selectList = '';
  /** Properties a request body may set. */
  protected writable = new Map<string, ColumnInfo>();
  /** Properties the server may set (writable + read-only ones such as a client's leadId). */
  protected settable = new Map<string, ColumnInfo>();
  /** NOT NULL without a default: a create must provide them. */
  protected requiredFields = new Set<string>();
  /** NOT NULL: a PATCH cannot set them to null. */
  protected notNullFields = new Set<string>();
  /** CSV columns: every API field. */
  exportColumns: string[] = [];

  protected constructor(
    readonly definition: CrmResourceDefinition,
    protected readonly teamScope: TeamScope,
    protected readonly audit: AuditService,
    protected readonly events: SecurityEventsService,
  ) {}

  onModuleInit(): void {
    const metadata = this.teamScope.dataSource.getMetadata(this.definition.entity);
    const system = new Set<string>(SYSTEM_FIELDS);
    const infos: ColumnInfo[] = [];
    for (const col of metadata.columns) {
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
        this.settable.set(col.propertyName, info);
        if (!this.definition.readOnly.includes(col.propertyName)) this.writable.set(col.propertyName, info);
        if (!col.isNullable) this.notNullFields.add(col.propertyName);
        if (!col.isNullable && col.default === undefined) this.requiredFields.add(col.propertyName);
      }
    }
    // id first, the resource's own fields, then the bookkeeping columns.
    const rank = (p: string) => (p === 'id' ? 0 : system.has(p) ? 2 : 1);
    this.columns = infos.sort((a, b) => rank(a.property) - rank(b.property));
    this.selectList = this.columns.map((c) => c.select).join(', ');
    this.exportColumns = this.columns.map((c) => c.property);
  }

  protected teamOf(actor: Actor): string {
    const teamId = actor.principal?.teamId;
    if (!teamId) throw AppException.unauthenticated();
    return teamId;
  }

  protected notFound(): AppException {
    return AppException.notFound(this.definition.label);
  }

  // ---------------------------------------------------------------------------------------------- reads

  async list(actor: Actor, query: CrmListQueryShape): Promise<Page<CrmRow>> {
    const teamId = this.teamOf(actor);
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const wantTotal = query.includeTotal === 'true';
    const page = this.pageStatement(teamId, query, limit);
    // The page (and the capped total) in one scoped round trip.
    const statements = wantTotal ? [page.statement, this.countStatement(teamId, query, TOTAL_CAP)] : [page.statement];
    const [rows = [], counted = []] = await this.teamScope.batch<CrmRow & { _k?: string | null }>(teamId, statements);
    const { items, nextCursor } = page.finish(rows);
    const meta: { limit: number; nextCursor: string | null; total?: number } = { limit, nextCursor };
    if (wantTotal) meta.total = Number((oneRow(counted, 'count') as unknown as { n: number }).n);
    return new Page(items, meta);
  }

  async get(actor: Actor, id: string): Promise<CrmRow> {
    const teamId = this.teamOf(actor);
    const [row] = await this.teamScope.rows<CrmRow>(teamId, this.rowStatement(teamId, id));
    if (!row) throw this.notFound();
    return row;
  }

  protected rowStatement(teamId: string, id: string, lock = false): ScopedStatement {
    return {
      sql: `SELECT ${this.selectList} FROM ${this.definition.table} WHERE team_id = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`,
      params: [teamId, id],
    };
  }

  protected findRow(m: EntityManager, teamId: string, id: string, lock = false): Promise<CrmRow[]> {
    const { sql, params } = this.rowStatement(teamId, id, lock);
    return queryRows<CrmRow>(m, sql, [...params]);
  }

  /** WHERE conditions and parameters of the filters and `q` (no cursor). `$1` is the team. */
  protected filterClause(teamId: string, query: CrmListQueryShape): { where: string[]; params: unknown[] } {
    const params: unknown[] = [teamId];
    const where = ['team_id = $1'];
    for (const filter of this.definition.filters) {
      const value = query[filter.param];
      if (value === undefined || value === null) continue;
      params.push(value);
      where.push(filter.where(`$${params.length}`));
    }
    if (query.q) {
      params.push(`%${escapeLike(query.q.toLowerCase())}%`);
      where.push(`search ILIKE $${params.length}`);
    }
    return { where, params };
  }

  protected resolveSort(sort: string | undefined): { key: string; spec: SortSpec; desc: boolean } {
    const key = sort ?? DEFAULT_SORT;
    const desc = key.startsWith('-');
    const spec = this.definition.sorts[desc ? key.slice(1) : key];
    if (!spec)
      throw AppException.validation(
        `Invalid input: sort must be one of ${Object.keys(this.definition.sorts).join(', ')}`,
      );
    return { key, spec, desc };
  }

  /**
   * One keyset page: the statement fetching `limit` rows after the cursor plus one (to know whether another
   * page exists), and what turns its rows into the page.
   */
  protected pageStatement(
    teamId: string,
    query: CrmListQueryShape,
    limit: number,
  ): {
    statement: ScopedStatement;
    finish: (rows: (CrmRow & { _k?: string | null })[]) => { items: CrmRow[]; nextCursor: string | null };
  } {
    const { where, params } = this.filterClause(teamId, query);
    const { key, spec, desc } = this.resolveSort(query.sort);
    // The cursor belongs to this resource and sort: one made for another list or order is refused.
    const scope = `${this.definition.resource}:${key}`;
    const page = keyset(params, { key: spec.expr, cast: spec.cast, desc, scope, limit, cursor: query.cursor });
    if (page.where) where.push(page.where);
    const sql = `SELECT ${this.selectList}, ${page.select} FROM ${this.definition.table}
        WHERE ${where.join(' AND ')} ${page.tail}`;
    return { statement: { sql, params }, finish: (rows) => page.finish(rows) };
  }

  protected countStatement(teamId: string, query: CrmListQueryShape, cap?: number): ScopedStatement {
    const { where, params } = this.filterClause(teamId, query);
    const inner = `SELECT 1 FROM ${this.definition.table} WHERE ${where.join(' AND ')}${cap ? ` LIMIT ${cap}` : ''}`;
    return { sql: `SELECT count(*)::int AS n FROM (${inner}) matching`, params };
  }

  // ---------------------------------------------------------------------------------------------- writes

  async create(actor: Actor, body: object): Promise<CrmRow> {
    const teamId = this.teamOf(actor);
    const values = this.createValues(body);
    // Without references to check, the insert and its audit row are one statement in one round trip.
    if (this.definition.references.length === 0) {
      return this.translateErrors('write', async () => {
        const rows = await this.teamScope.rows<CrmRow>(teamId, this.insertStatement(actor, teamId, values));
        return oneRow(rows, 'insert');
      });
    }
    return this.translateErrors('write', () => this.teamScope.run(teamId, (m) => this.createWithin(m, actor, body)));
  }

  /** The body's writable fields plus `trusted` ones, with every required field present. */
  private createValues(body: object, trusted: Record<string, unknown> = {}): Record<string, unknown> {
    const values = { ...this.pickWritable(body), ...trusted };
    for (const field of this.requiredFields) {
      if (values[field] === undefined || values[field] === null)
        throw AppException.validation(`Invalid input: ${field} is required`, [
          { field, errors: [`${field} is required`] },
        ]);
    }
    return values;
  }

  /** INSERT … RETURNING the API row, with its audit row, as one statement. */
  private insertStatement(actor: Actor, teamId: string, values: Record<string, unknown>): ScopedStatement {
    const columns = ['team_id', 'created_by', 'created_by_api_key'];
    const params: unknown[] = [teamId, actorUserId(actor), actorApiKeyId(actor)];
    for (const [property, value] of Object.entries(values)) {
      const info = this.settable.get(property);
      // null for a NOT NULL column with a default (status) means "the default".
      if (!info || value === undefined || (value === null && this.notNullFields.has(property))) continue;
      columns.push(`"${info.column}"`);
      params.push(value);
    }
    const placeholders = params.map((_, i) => `$${i + 1}`).join(', ');
    return this.audit.withAudit(
      actor,
      teamId,
      `INSERT INTO ${this.definition.table} (${columns.join(', ')}) VALUES (${placeholders}) RETURNING ${this.selectList}`,
      params,
      {
        action: 'CREATE',
        resourceType: this.definition.auditType,
        oldValues: null,
        newValues: 'changed',
      },
    );
  }

  /**
   * Inserts a row and its audit entry on `m` (the caller's TeamScope transaction). `trusted` values come from
   * the server itself and may set read-only fields.
   */
  async createWithin(
    m: EntityManager,
    actor: Actor,
    body: object,
    trusted: Record<string, unknown> = {},
  ): Promise<CrmRow> {
    const teamId = this.teamOf(actor);
    const values = this.createValues(body, trusted);
    await this.checkReferences(m, teamId, values);
    const { sql, params } = this.insertStatement(actor, teamId, values);
    return oneRow(await queryRows<CrmRow>(m, sql, [...params]), 'insert');
  }

  async update(actor: Actor, id: string, body: object): Promise<CrmRow> {
    const teamId = this.teamOf(actor);
    const changes = this.pickWritable(body);
    const fields = Object.keys(changes);
    if (fields.length === 0) throw AppException.validation('Invalid input: send at least one field to change');
    for (const field of fields) {
      if (changes[field] === null && this.notNullFields.has(field)) {
        throw AppException.validation(`Invalid input: ${field} cannot be null`, [
          { field, errors: [`${field} cannot be null`] },
        ]);
      }
    }
    return this.translateErrors('write', () =>
      this.teamScope.run(teamId, async (m) => {
        const [old] = await this.findRow(m, teamId, id, true);
        if (!old) throw this.notFound();
        await this.beforeUpdate(m, actor, old, changes);
        await this.checkReferences(m, teamId, changes);
        return this.updateWithin(m, actor, old, changes);
      }),
    );
  }

  /** Applies `changes` (already checked) to the locked row `old` and audits the changed fields. */
  async updateWithin(m: EntityManager, actor: Actor, old: CrmRow, changes: Record<string, unknown>): Promise<CrmRow> {
    const teamId = this.teamOf(actor);
    const params: unknown[] = [teamId, old.id];
    const sets: string[] = [];
    for (const [property, value] of Object.entries(changes)) {
      const info = this.settable.get(property);
      if (!info) continue;
      params.push(value);
      sets.push(`"${info.column}" = $${params.length}`);
    }
    sets.push('updated_at = now()');
    const fields = Object.keys(changes).filter((f) => this.settable.has(f));
    const { sql, params: all } = this.audit.withAudit(
      actor,
      teamId,
      `UPDATE ${this.definition.table} SET ${sets.join(', ')} WHERE team_id = $1 AND id = $2 RETURNING ${this.selectList}`,
      params,
      {
        action: 'UPDATE',
        resourceType: this.definition.auditType,
        oldValues: Object.fromEntries(fields.map((f) => [f, old[f] ?? null])),
        newValues: { fields },
      },
    );
    const [row] = await queryRows<CrmRow>(m, sql, [...all]);
    if (!row) throw this.notFound();
    return row;
  }

  async remove(actor: Actor, id: string): Promise<{ id: string; deleted: true }> {
    const teamId = this.teamOf(actor);
    const statement = this.audit.withAudit(
      actor,
      teamId,
      `DELETE FROM ${this.definition.table} WHERE team_id = $1 AND id = $2 RETURNING ${this.selectList}`,
      [teamId, id],
      {
        action: 'DELETE',
        resourceType: this.definition.auditType,
        oldValues: 'changed',
        newValues: null,
      },
    );
    return this.translateErrors('delete', async () => {
      const [row] = await this.teamScope.rows<CrmRow>(teamId, statement);
      if (!row) throw this.notFound();
      return { id: row.id, deleted: true as const };
    });
  }

  // ---------------------------------------------------------------------------------------------- export

  /**
   * The team's rows (filtered like the list) as an object stream read in keyset batches, so memory stays flat
   * however large the team. The `data_export` event (and `data_export_large` over 1000 rows) is written
   * before the first row leaves.
   */
  async exportRows(actor: Actor, query: CrmListQueryShape): Promise<{ rows: Readable; count: number }> {
    const teamId = this.teamOf(actor);
    this.resolveSort(query.sort);
    const counted = await this.teamScope.rows<{ n: number }>(teamId, this.countStatement(teamId, query));
    const count = Number(oneRow(counted, 'count').n);
    const filters = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined));
    const details = { resource: this.definition.resource, rows: count, format: 'csv', filters };
    await this.events.record('data_export', 'medium', eventContext(actor, details));
    if (count > LARGE_EXPORT_ROWS) await this.events.record('data_export_large', 'high', eventContext(actor, details));

    const batches = async function* (this: CrmResourceService): AsyncGenerator<CrmRow> {
      let cursor: string | undefined;
      do {
        const batch = this.pageStatement(teamId, { ...query, cursor }, EXPORT_BATCH);
        const rows = await this.teamScope.rows<CrmRow & { _k?: string | null }>(teamId, batch.statement);
        const page = batch.finish(rows);
        for (const row of page.items) yield row;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    };
    return { rows: Readable.from(batches.call(this)), count };
  }

  // ---------------------------------------------------------------------------------------------- helpers

  /** Hook: resource rules before an update of the locked row `old`. */
  protected beforeUpdate(
    _m: EntityManager,
    _actor: Actor,
    _old: CrmRow,
    _changes: Record<string, unknown>,
  ): void | Promise<void> {}

  protected pickWritable(body: object): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(body ?? {})) {
      if (value !== undefined && this.writable.has(key)) out[key] = value;
    }
    return out;
  }

  /** Referenced ids must be rows of the caller's team: anything else is a 404, as for the resource itself. */
  protected async checkReferences(m: EntityManager, teamId: string, values: Record<string, unknown>): Promise<void> {
    for (const ref of this.definition.references) {
      const id = values[ref.field];
      if (id === undefined || id === null) continue;
      const found = await queryRows(m, `SELECT 1 FROM ${ref.table} WHERE team_id = $1 AND id = $2`, [teamId, id]);
      if (found.length === 0) {
        throw new AppException('NOT_FOUND', `${ref.field}: no such ${ref.noun} in your team`, [
          { field: ref.field, errors: [`no such ${ref.noun} in your team`] },
        ]);
      }
    }
  }

  /** Turns constraint violations into the contract's errors with a message that names the problem. */
  protected async translateErrors<T>(kind: 'write' | 'delete', work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof AppException) throw err;
      const pg = err as PgError;
      const known = pg.constraint ? this.definition.constraintMessages[pg.constraint] : undefined;
      switch (pg.code) {
        case '23514':
          throw AppException.validation(`Invalid input: ${known ?? 'a value is out of the allowed range'}`);
        case '23502':
          throw AppException.validation(`Invalid input: ${pg.column ?? 'a required field'} is required`);
        case '23505':
          throw AppException.conflict(
            known ?? `A ${this.definition.label.toLowerCase()} with these values already exists`,
          );
        case '23001': // restrict_violation: ON DELETE RESTRICT
        case '23503':
          if (kind === 'delete') {
            throw AppException.conflict(
              `This ${this.definition.label.toLowerCase()} is still referenced by other records (appointments or escrows); remove those links first`,
            );
          }
          throw new AppException('NOT_FOUND', 'A referenced record was not found in your team');
        default:
          throw err;
      }
    }
  }
}
