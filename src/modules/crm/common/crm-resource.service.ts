import { type OnModuleInit } from '@nestjs/common';
import { Readable } from 'node:stream';
import { type EntityManager } from 'typeorm';
import { AppException } from '../../../common/http/app.exception';
import { Page } from '../../../common/http/envelope';
import { keyset } from '../../../common/pagination/keyset';
import { DEFAULT_PAGE_SIZE, type PaginationQuery } from '../../../common/pagination/pagination-query.dto';
import { type Actor, actorApiKeyId, actorUserId } from '../../../common/security/principal';
import { oneRow, queryRows } from '../../../database/query-rows';
import { utcIsoSql } from '../../../database/sql-time';
import { type ScopedStatement, type TeamScope, type TenantScope, actorScope } from '../../../database/team-scope';
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
  message?: string;
}

/** A trashed row in the trash list: the record and when it was deleted. */
export type TrashedRow = CrmRow & { deletedAt: string };

/** The FKs (ON DELETE RESTRICT / NO ACTION) that point at a table: `table (team_id, column) → this (team_id, id)`. */
export interface Referrer {
  table: string;
  column: string;
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
  protected selectListBeforeChange = '';
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

  /** The SELECT list producing the API shape (unqualified columns), for other statements over this table (timelines). */
  get apiSelectList(): string {
    return this.selectList;
  }

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
    // A soft delete's audit row holds the record as it was: its RETURNING reports the version before the change.
    this.selectListBeforeChange = this.columns
      .map((c) => (c.property === 'version' ? `("version" - 1) AS "version"` : c.select))
      .join(', ');
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

  /** The transaction settings of a request: team, user and role (crm_visible), trash mode. */
  protected scopeOf(actor: Actor, trash = false): TenantScope {
    this.teamOf(actor);
    return actorScope(actor, { trash });
  }

  protected preconditionFailed(current?: number): AppException {
    return new AppException(
      'PRECONDITION_FAILED',
      `If-Match does not match this ${this.definition.label.toLowerCase()}'s current version${current ? ` (${current})` : ''}; read it again and retry`,
    );
  }

  /** `assignedTo=me` becomes the caller's id (an API key is nobody: 400); `none` and ids pass through. */
  protected resolveAssigneeFilter(actor: Actor, query: CrmListQueryShape): CrmListQueryShape {
    if (query.assignedTo !== 'me') return query;
    const userId = actorUserId(actor);
    if (!userId)
      throw AppException.validation('Invalid input: assignedTo=me needs a signed-in user (an API key is nobody)', [
        { field: 'assignedTo', errors: ['me is not available to API keys'] },
      ]);
    return { ...query, assignedTo: userId };
  }

  // ---------------------------------------------------------------------------------------------- reads

  async list(actor: Actor, listQuery: CrmListQueryShape): Promise<Page<CrmRow>> {
    const teamId = this.teamOf(actor);
    const query = this.resolveAssigneeFilter(actor, listQuery);
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const wantTotal = query.includeTotal === 'true';
    const owner = this.restrictedUser(actor);
    const page = this.pageStatement(teamId, query, limit, owner);
    // The page (and the capped total) in one scoped round trip.
    const statements = wantTotal
      ? [page.statement, this.countStatement(teamId, query, TOTAL_CAP, owner)]
      : [page.statement];
    const [rows = [], counted = []] = await this.teamScope.batch<CrmRow & { _k?: string | null }>(
      this.scopeOf(actor),
      statements,
    );
    const { items, nextCursor } = page.finish(rows);
    const meta: { limit: number; nextCursor: string | null; total?: number } = { limit, nextCursor };
    if (wantTotal) meta.total = Number((oneRow(counted, 'count') as unknown as { n: number }).n);
    return new Page(items, meta);
  }

  async get(actor: Actor, id: string): Promise<CrmRow> {
    const teamId = this.teamOf(actor);
    const [row] = await this.teamScope.rows<CrmRow>(this.scopeOf(actor), this.rowStatement(teamId, id));
    if (!row) throw this.notFound();
    return row;
  }

  protected rowStatement(teamId: string, id: string, lock = false): ScopedStatement {
    return {
      sql: `SELECT ${this.selectList} FROM ${this.definition.table} WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL${lock ? ' FOR UPDATE' : ''}`,
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
    // The trash is never listed here (RLS hides it too, unless app.trash is on).
    const where = ['team_id = $1', 'deleted_at IS NULL'];
    const assignedTo = query.assignedTo;
    if (assignedTo === 'none') where.push('assigned_to IS NULL');
    else if (typeof assignedTo === 'string') {
      params.push(assignedTo);
      where.push(`assigned_to = $${params.length}::uuid`);
    }
    for (const filter of this.definition.filters) {
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
      if (/[a-z0-9]{3}/.test(query.q.toLowerCase())) where.push(this.searchFence(pattern));
    }
    return { where, params };
  }

  /**
   * A redundant condition that lets `q` use the team's trigram index under row-level security (migration
   * 1733300004000): planned once per statement, it becomes `id = ANY ('{…}')` for a term with few matches and
   * vanishes for a common one (the list then walks its sort index). Only for terms with a trigram (a run of
   * three letters or digits); shorter ones stay a plain walk of the team, which finds common strings quickly.
   */
  private searchFence(pattern: string): string {
    const ids = `crm_search_ids('${this.definition.table}', $1::uuid, ${pattern})`;
    return `(${ids} IS NULL OR id = ANY (${ids}))`;
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
    owner?: string | null,
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
    const sql = this.byVisibility(
      (extra) => `SELECT ${this.selectList}, ${page.select} FROM ${this.definition.table}
        WHERE ${where.join(' AND ')}${extra} ${page.tail}`,
      params,
      owner,
    );
    return { statement: { sql, params }, finish: (rows) => page.finish(rows) };
  }

  protected countStatement(
    teamId: string,
    query: CrmListQueryShape,
    cap?: number,
    owner?: string | null,
  ): ScopedStatement {
    const { where, params } = this.filterClause(teamId, query);
    const inner = this.byVisibility(
      (extra) =>
        `SELECT 1 FROM ${this.definition.table} WHERE ${where.join(' AND ')}${extra}${cap ? ` LIMIT ${cap}` : ''}`,
      params,
      owner,
    );
    return { sql: `SELECT count(*)::int AS n FROM (${inner}) matching`, params };
  }

  /** The user whose records an agent or viewer may be limited to (agentVisibility 'assigned'); none for others. */
  protected restrictedUser(actor: Actor): string | null {
    const principal = actor.principal;
    if (!this.definition.visibleByAssigneeOnly) return null;
    return principal?.kind === 'user' && principal.role !== 'admin' ? principal.userId : null;
  }

  /**
   * For an agent or viewer, the statement as two branches of which exactly one runs (one-time filters on the
   * team's rule, which TeamScope set): everything under 'team', or `assigned_to = <user>` under 'assigned', so
   * the (team_id, assigned_to, created_at) index serves it instead of a scan of the team filtered row by row by
   * the RLS policy (a viewer with nothing assigned would otherwise read the whole team for an empty page). The
   * policy still decides; this only makes its answer cheap.
   */
  private byVisibility(build: (extra: string) => string, params: unknown[], owner?: string | null): string {
    if (!owner) return build('');
    params.push(owner);
    const rule = `current_setting('app.agent_visibility', true)`;
    return `(${build(` AND ${rule} = 'team'`)})
      UNION ALL (${build(` AND ${rule} IS DISTINCT FROM 'team' AND assigned_to = $${params.length}::uuid`)})`;
  }

  // ---------------------------------------------------------------------------------------------- writes

  async create(actor: Actor, body: object): Promise<CrmRow> {
    const teamId = this.teamOf(actor);
    const values = this.createValues(actor, body);
    // Without references or another assignee to check, the insert and its audit row are one statement in one
    // round trip.
    if (this.definition.references.length === 0 && !this.needsAssigneeCheck(actor, values)) {
      return this.translateErrors('write', async () => {
        const rows = await this.teamScope.rows<CrmRow>(
          this.scopeOf(actor),
          this.insertStatement(actor, teamId, values),
        );
        return oneRow(rows, 'insert');
      });
    }
    return this.translateErrors('write', () =>
      this.teamScope.run(this.scopeOf(actor), (m) => this.createWithin(m, actor, body)),
    );
  }

  /** The body's writable fields plus `trusted` ones, with every required field present. */
  private createValues(_actor: Actor, body: object, trusted: Record<string, unknown> = {}): Record<string, unknown> {
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
    const placeholders = params.map((_, i) => `$${i + 1}`);
    // assignedTo defaults to the creating user (null when an API key creates): looked up, so an actor that is no
    // user of the team (a background job) leaves the record unassigned instead of failing the foreign key.
    const creator = actorUserId(actor);
    if (values.assignedTo === undefined && this.settable.has('assignedTo') && creator) {
      params.push(creator);
      columns.push('assigned_to');
      placeholders.push(`(SELECT u.id FROM users u WHERE u.team_id = $1 AND u.id = $${params.length}::uuid)`);
    }
    return this.audit.withAudit(
      actor,
      teamId,
      `INSERT INTO ${this.definition.table} (${columns.join(', ')}) VALUES (${placeholders.join(', ')}) RETURNING ${this.selectList}`,
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
    const values = this.createValues(actor, body, trusted);
    await this.checkReferences(m, teamId, values);
    // An assignee from the body is checked; a trusted one (a converted lead's) is the server's own choice.
    if (trusted.assignedTo === undefined && this.needsAssigneeCheck(actor, values))
      await this.checkAssignee(m, teamId, values.assignedTo as string);
    const { sql, params } = this.insertStatement(actor, teamId, values);
    return oneRow(await queryRows<CrmRow>(m, sql, [...params]), 'insert');
  }

  /** `ifMatch`: the version the caller last read (If-Match); another current version is 412 and changes nothing. */
  async update(actor: Actor, id: string, body: object, ifMatch?: number): Promise<CrmRow> {
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
      this.teamScope.run(this.scopeOf(actor), async (m) => {
        const [old] = await this.findRow(m, teamId, id, true);
        if (!old) throw this.notFound();
        // Locked: a concurrent writer with the same If-Match waits here, then sees the new version (412).
        if (ifMatch !== undefined && old.version !== ifMatch) throw this.preconditionFailed(old.version as number);
        await this.beforeUpdate(m, actor, old, changes);
        await this.checkReferences(m, teamId, changes);
        if (this.needsAssigneeCheck(actor, changes)) await this.checkAssignee(m, teamId, changes.assignedTo as string);
        return this.updateWithin(m, actor, old, changes, ifMatch);
      }),
    );
  }

  /**
   * Applies `changes` (already checked) to the locked row `old` and audits the changed fields; the version goes
   * up by one. With `expectedVersion`, the statement itself only matches that version (412 otherwise).
   */
  async updateWithin(
    m: EntityManager,
    actor: Actor,
    old: CrmRow,
    changes: Record<string, unknown>,
    expectedVersion?: number,
  ): Promise<CrmRow> {
    const teamId = this.teamOf(actor);
    const params: unknown[] = [teamId, old.id];
    let versionCheck = '';
    if (expectedVersion !== undefined) {
      params.push(expectedVersion);
      versionCheck = ` AND version = $${params.length}`;
    }
    const sets: string[] = [];
    for (const [property, value] of Object.entries(changes)) {
      const info = this.settable.get(property);
      if (!info) continue;
      params.push(value);
      sets.push(`"${info.column}" = $${params.length}`);
    }
    sets.push('updated_at = now()', 'version = version + 1');
    const fields = Object.keys(changes).filter((f) => this.settable.has(f));
    const { sql, params: all } = this.audit.withAudit(
      actor,
      teamId,
      `UPDATE ${this.definition.table} SET ${sets.join(', ')}
        WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL${versionCheck} RETURNING ${this.selectList}`,
      params,
      {
        action: 'UPDATE',
        resourceType: this.definition.auditType,
        oldValues: Object.fromEntries(fields.map((f) => [f, old[f] ?? null])),
        newValues: { fields },
      },
    );
    const [row] = await queryRows<CrmRow>(m, sql, [...all]);
    if (!row) throw expectedVersion !== undefined ? this.preconditionFailed() : this.notFound();
    return row;
  }

  /**
   * Moves the record to the trash: one UPDATE (deleted_at, version + 1) with its DELETE audit row, and in the
   * same round trip a look at whether a live row is still there, which tells a version mismatch (412) from
   * an unknown, invisible or already trashed id (404).
   */
  async remove(actor: Actor, id: string, ifMatch?: number): Promise<{ id: string; deleted: true }> {
    const teamId = this.teamOf(actor);
    const params: unknown[] = [teamId, id];
    if (ifMatch !== undefined) params.push(ifMatch);
    const statement = this.audit.withAudit(
      actor,
      teamId,
      `UPDATE ${this.definition.table} SET deleted_at = now(), version = version + 1
        WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL${ifMatch !== undefined ? ' AND version = $3' : ''}
        RETURNING ${this.selectListBeforeChange}`,
      params,
      {
        action: 'DELETE',
        resourceType: this.definition.auditType,
        oldValues: 'changed',
        newValues: null,
      },
    );
    const still: ScopedStatement = {
      sql: `SELECT version FROM ${this.definition.table} WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL`,
      params: [teamId, id],
    };
    return this.translateErrors('delete', async () => {
      // app.trash on: the UPDATE's new row (trashed) must pass the read policy its RETURNING is checked against.
      const [[row] = [], [live] = []] = await this.teamScope.batch<CrmRow>(this.scopeOf(actor, true), [
        statement,
        still,
      ]);
      if (row) return { id: row.id, deleted: true as const };
      if (live) throw this.preconditionFailed(live.version as number);
      throw this.notFound();
    });
  }

  // ---------------------------------------------------------------------------------------------- trash

  /** The team's trashed rows (that the caller may see), most recently deleted first, keyset-paginated. */
  async listTrash(actor: Actor, query: PaginationQuery): Promise<Page<TrashedRow>> {
    const teamId = this.teamOf(actor);
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const params: unknown[] = [teamId];
    const page = keyset(params, {
      key: 'deleted_at',
      cast: 'timestamptz',
      desc: true,
      scope: `${this.definition.resource}:trash`,
      limit,
      cursor: query.cursor,
    });
    const where = ['team_id = $1', 'deleted_at IS NOT NULL'];
    if (page.where) where.push(page.where);
    const rows = await this.teamScope.rows<TrashedRow & { _k?: string | null }>(this.scopeOf(actor, true), {
      sql: `SELECT ${this.selectList}, ${utcIsoSql('deleted_at', 'ms')} AS "deletedAt", ${page.select}
          FROM ${this.definition.table} WHERE ${where.join(' AND ')} ${page.tail}`,
      params,
    });
    const { items, nextCursor } = page.finish(rows);
    return new Page(items, { limit, nextCursor });
  }

  /** Takes a record out of the trash (version + 1, RESTORE audit row). A live, unknown or purged id is 404. */
  async restore(actor: Actor, id: string): Promise<CrmRow> {
    const teamId = this.teamOf(actor);
    const statement = this.audit.withAudit(
      actor,
      teamId,
      `UPDATE ${this.definition.table} SET deleted_at = NULL, version = version + 1
        WHERE team_id = $1 AND id = $2 AND deleted_at IS NOT NULL RETURNING ${this.selectList}`,
      [teamId, id],
      { action: 'RESTORE', resourceType: this.definition.auditType, oldValues: null, newValues: 'changed' },
    );
    return this.translateErrors('write', async () => {
      const [row] = await this.teamScope.rows<CrmRow>(this.scopeOf(actor, true), statement);
      if (!row) throw this.notFound();
      return row;
    });
  }

  /**
   * Deletes for good this team's rows trashed before `cutoff`, each with a PURGE audit row, in one statement.
   * A row still referenced by another row (a trashed client with a live appointment: ON DELETE RESTRICT) is
   * kept until the reference goes; children are purged before parents by the caller's table order.
   */
  async purgeTeam(teamId: string, cutoff: Date, referrers: readonly Referrer[], batch = 1000): Promise<number> {
    const t = this.definition.table;
    const kept = referrers
      .map((r) => `NOT EXISTS (SELECT 1 FROM ${r.table} r WHERE r.team_id = t.team_id AND r.${r.column} = t.id)`)
      .join(' AND ');
    const system: Actor = { ip: '', userAgent: 'trash-purge' };
    let total = 0;
    for (;;) {
      const statement = this.audit.withAudit(
        system,
        teamId,
        `DELETE FROM ${t} WHERE id IN (
            SELECT t.id FROM ${t} t
             WHERE t.team_id = $1 AND t.deleted_at IS NOT NULL AND t.deleted_at < $2${kept ? ` AND ${kept}` : ''}
             ORDER BY t.deleted_at LIMIT ${batch})
          RETURNING ${this.selectList}`,
        [teamId, cutoff],
        { action: 'PURGE', resourceType: this.definition.auditType, oldValues: 'changed', newValues: null },
      );
      const rows = await this.teamScope.rows<CrmRow>({ teamId, role: 'system', trash: true }, statement);
      total += rows.length;
      if (rows.length < batch) return total;
    }
  }

  // ---------------------------------------------------------------------------------------------- assignment

  /**
   * One statement giving a user's rows to `toUserId` (or nobody), version + 1, each with an UPDATE audit row
   * (old and new assignedTo). `which`: 'live' = the rows a reassignment moves (not trashed, and matching the
   * definition's reassignWhere); 'rest' = the user's other rows (trashed ones, closed tasks), which a removal
   * must release too.
   */
  reassignStatement(
    actor: Actor,
    teamId: string,
    fromUserId: string,
    toUserId: string | null,
    which: 'live' | 'rest',
  ): ScopedStatement {
    const live = `deleted_at IS NULL${this.definition.reassignWhere ? ` AND (${this.definition.reassignWhere})` : ''}`;
    return this.audit.withAudit(
      actor,
      teamId,
      `UPDATE ${this.definition.table} SET assigned_to = $3, version = version + 1, updated_at = now()
        WHERE team_id = $1 AND assigned_to = $2 AND ${which === 'live' ? live : `NOT (${live})`}
        RETURNING ${this.selectList}`,
      [teamId, fromUserId, toUserId],
      {
        action: 'UPDATE',
        resourceType: this.definition.auditType,
        oldValues: { assignedTo: fromUserId },
        newValues: { fields: ['assignedTo'] },
      },
    );
  }

  // ---------------------------------------------------------------------------------------------- export

  /**
   * The team's rows (filtered like the list) as an object stream read in keyset batches, so memory stays flat
   * however large the team. The `data_export` event (and `data_export_large` over 1000 rows) is written
   * before the first row leaves.
   */
  async exportRows(actor: Actor, exportQuery: CrmListQueryShape): Promise<{ rows: Readable; count: number }> {
    const teamId = this.teamOf(actor);
    const query = this.resolveAssigneeFilter(actor, exportQuery);
    this.resolveSort(query.sort);
    const scope = this.scopeOf(actor);
    const owner = this.restrictedUser(actor);
    const counted = await this.teamScope.rows<{ n: number }>(
      scope,
      this.countStatement(teamId, query, undefined, owner),
    );
    const count = Number(oneRow(counted, 'count').n);
    const filters = Object.fromEntries(Object.entries(exportQuery).filter(([, v]) => v !== undefined));
    const details = { resource: this.definition.resource, rows: count, format: 'csv', filters };
    await this.events.record('data_export', 'medium', eventContext(actor, details));
    if (count > LARGE_EXPORT_ROWS) await this.events.record('data_export_large', 'high', eventContext(actor, details));

    const batches = async function* (this: CrmResourceService): AsyncGenerator<CrmRow> {
      let cursor: string | undefined;
      do {
        const batch = this.pageStatement(teamId, { ...query, cursor }, EXPORT_BATCH, owner);
        const rows = await this.teamScope.rows<CrmRow & { _k?: string | null }>(scope, batch.statement);
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
      // A trashed (or, under 'assigned', invisible) record cannot be linked.
      const found = await queryRows(
        m,
        `SELECT 1 FROM ${ref.table} WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL`,
        [teamId, id],
      );
      if (found.length === 0) {
        throw new AppException('NOT_FOUND', `${ref.field}: no such ${ref.noun} in your team`, [
          { field: ref.field, errors: [`no such ${ref.noun} in your team`] },
        ]);
      }
    }
  }

  /** An explicit assignee other than the creating/changing user must be checked (the caller is known to exist). */
  protected needsAssigneeCheck(actor: Actor, values: Record<string, unknown>): boolean {
    const assignee = values.assignedTo;
    return typeof assignee === 'string' && assignee !== actorUserId(actor);
  }

  /**
   * The assignee must be an enabled user of the caller's team, else 404 naming the field. Checked here, not left
   * to the foreign key, which would accept a disabled user.
   */
  protected async checkAssignee(m: EntityManager, teamId: string, userId: string): Promise<void> {
    const found = await queryRows(m, `SELECT 1 FROM users WHERE team_id = $1 AND id = $2 AND NOT disabled`, [
      teamId,
      userId,
    ]);
    if (found.length === 0) {
      throw new AppException('NOT_FOUND', 'assignedTo: no such active user in your team', [
        { field: 'assignedTo', errors: ['no such active user in your team'] },
      ]);
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
        case '42501':
          // The new row fails the read policy: under agentVisibility 'assigned' an agent gave a record away.
          if (pg.message?.includes('row-level security'))
            throw AppException.forbidden(
              "Under the team's agentVisibility 'assigned' you can only assign records to yourself",
            );
          throw err;
        case '23001': // restrict_violation: ON DELETE RESTRICT
        case '23503':
          if (kind === 'delete') {
            throw AppException.conflict(
              `This ${this.definition.label.toLowerCase()} is still referenced by other records (appointments or escrows); remove those links first`,
            );
          }
          if (pg.constraint?.endsWith('_assigned_to_fk'))
            throw new AppException('NOT_FOUND', 'assignedTo: no such active user in your team', [
              { field: 'assignedTo', errors: ['no such active user in your team'] },
            ]);
          throw new AppException('NOT_FOUND', 'A referenced record was not found in your team');
        default:
          throw err;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------- import

  /** What the CSV import (crm-import.service.ts) needs: the API-shape select list and the writable fields. */
  importShape(): {
    selectList: string;
    /** Writable property → column. */
    writable: ReadonlyMap<string, string>;
    requiredFields: ReadonlySet<string>;
    notNullFields: ReadonlySet<string>;
  } {
    return {
      selectList: this.selectList,
      writable: new Map([...this.writable].map(([property, info]) => [property, info.column])),
      requiredFields: this.requiredFields,
      notNullFields: this.notNullFields,
    };
  }

  /** The import's writes, with the constraint messages of POST. */
  translateImportErrors<T>(work: () => Promise<T>): Promise<T> {
    return this.translateErrors('write', work);
  }
}
