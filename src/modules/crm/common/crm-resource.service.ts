import { type OnModuleInit } from '@nestjs/common';
import { type Readable } from 'node:stream';
import { type EntityManager } from 'typeorm';
import { AppException } from '../../../common/http/app.exception';
import { Page } from '../../../common/http/envelope';
import { DEFAULT_PAGE_SIZE, type PaginationQuery } from '../../../common/pagination/pagination-query.dto';
import { type Actor, actorApiKeyId, actorUserId } from '../../../common/security/principal';
import { oneRow, queryRows } from '../../../database/query-rows';
import { type ScopedStatement, type TeamScope, type TenantScope, actorScope } from '../../../database/team-scope';
import { type SecurityEventsService, eventContext } from '../../security-events/security-events.service';
import { type AuditService } from '../../audit/audit.service';
import { type TeamMembers } from '../../users/users.module';
import { assigneeNotFound, preconditionFailed, translateCrmError } from './crm-errors';
import { resolveAssigneeFilter, restrictedUser } from './crm-list-scope';
import { type CrmListQueryShape, TOTAL_CAP } from './crm-list-query.dto';
import { type CrmResourceDefinition } from './crm-resource.definition';
import * as statements from './crm-statements';
import { type AuditedStatement, type CrmRow, type Referrer } from './crm-statements';
import { type CrmImportShape, type CrmTable, crmTable } from './crm-table';
import { exportStream } from './crm-export';

export type { CrmRow, Referrer } from './crm-statements';
export type { CrmImportShape } from './crm-table';

/** Rows fetched per round trip while streaming an export. */
const EXPORT_BATCH = 500;
/** An export over this many rows also writes `data_export_large` (high). */
export const LARGE_EXPORT_ROWS = 1000;

/** A trashed row in the trash list: the record and when it was deleted. */
export type TrashedRow = CrmRow & { deletedAt: string };

/**
 * The generic team-scoped resource, as an executor: the SQL comes from the pure builders of crm-statements.ts;
 * this runs each in TeamScope (role app_tenant + app.team_id, so row-level security backs up the explicit
 * `team_id = $1`), joins every change to its audit row in one statement (AuditService.withAudit), and turns
 * results and constraint violations into the API's answers.
 *
 * Subclasses (one per resource) add hooks and special routes; the columns come from the resource's entity.
 */
export abstract class CrmResourceService implements OnModuleInit {
  protected table: CrmTable;

  protected constructor(
    readonly definition: CrmResourceDefinition,
    protected readonly teamScope: TeamScope,
    protected readonly audit: AuditService,
    protected readonly events: SecurityEventsService,
    protected readonly members: TeamMembers,
  ) {}

  onModuleInit(): void {
    const metadata = this.teamScope.dataSource.getMetadata(this.definition.entity);
    this.table = crmTable(this.definition, metadata.columns, this.extraSelect());
  }

  /** Hook: read-only aliases added to the API shape (an activity's author). */
  protected extraSelect(): { select: string; fields: string[] } | undefined {
    return undefined;
  }

  /** The SELECT list producing the API shape (unqualified columns), for other statements over this table (timelines). */
  get apiSelectList(): string {
    return this.table.selectList;
  }

  /** CSV columns: every API field. */
  get exportColumns(): string[] {
    return this.table.exportColumns;
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

  /** A change statement joined to its audit row: one statement. */
  protected audited(actor: Actor, teamId: string, statement: AuditedStatement): ScopedStatement {
    return this.audit.withAudit(actor, teamId, statement.sql, statement.params, statement.audit);
  }

  // ---------------------------------------------------------------------------------------------- reads

  async list(actor: Actor, listQuery: CrmListQueryShape): Promise<Page<CrmRow>> {
    const teamId = this.teamOf(actor);
    const query = resolveAssigneeFilter(actor, listQuery);
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const wantTotal = query.includeTotal === 'true';
    const owner = restrictedUser(this.definition, actor);
    const page = statements.pageStatement(this.table, teamId, query, limit, owner);
    // The page (and the capped total) in one scoped round trip.
    const batch = wantTotal
      ? [page.statement, statements.countStatement(this.table, teamId, query, TOTAL_CAP, owner)]
      : [page.statement];
    const [rows = [], counted = []] = await this.teamScope.batch<CrmRow & { _k?: string | null }>(
      this.scopeOf(actor),
      batch,
    );
    const { items, nextCursor } = page.finish(rows);
    const meta: { limit: number; nextCursor: string | null; total?: number } = { limit, nextCursor };
    if (wantTotal) meta.total = Number((oneRow(counted, 'count') as unknown as { n: number }).n);
    return new Page(items, meta);
  }

  async get(actor: Actor, id: string): Promise<CrmRow> {
    const teamId = this.teamOf(actor);
    const [row] = await this.teamScope.rows<CrmRow>(
      this.scopeOf(actor),
      statements.rowStatement(this.table, teamId, id),
    );
    if (!row) throw this.notFound();
    return row;
  }

  protected findRow(m: EntityManager, teamId: string, id: string, lock = false): Promise<CrmRow[]> {
    const { sql, params } = statements.rowStatement(this.table, teamId, id, lock);
    return queryRows<CrmRow>(m, sql, [...params]);
  }

  // ---------------------------------------------------------------------------------------------- writes

  async create(actor: Actor, body: object): Promise<CrmRow> {
    const teamId = this.teamOf(actor);
    const values = this.createValues(body);
    // Without references or another assignee to check, the insert and its audit row are one statement in one
    // round trip.
    if (this.definition.references.length === 0 && !this.needsAssigneeCheck(actor, values)) {
      return this.translateErrors('write', async () => {
        const statement = statements.insertStatement(this.table, teamId, this.writerOf(actor), values);
        const rows = await this.teamScope.rows<CrmRow>(this.scopeOf(actor), this.audited(actor, teamId, statement));
        return oneRow(rows, 'insert');
      });
    }
    return this.translateErrors('write', () =>
      this.teamScope.run(this.scopeOf(actor), (m) => this.createWithin(m, actor, body)),
    );
  }

  private writerOf(actor: Actor): statements.Writer {
    return { userId: actorUserId(actor), apiKeyId: actorApiKeyId(actor) };
  }

  /** The body's writable fields plus `trusted` ones, with every required field present. */
  private createValues(body: object, trusted: Record<string, unknown> = {}): Record<string, unknown> {
    const values = { ...this.pickWritable(body), ...trusted };
    for (const field of this.table.requiredFields) {
      if (values[field] === undefined || values[field] === null)
        throw AppException.validation(`Invalid input: ${field} is required`, [
          { field, errors: [`${field} is required`] },
        ]);
    }
    return values;
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
    // An assignee from the body is checked; a trusted one (a converted lead's) is the server's own choice.
    if (trusted.assignedTo === undefined && this.needsAssigneeCheck(actor, values))
      await this.checkAssignee(m, teamId, values.assignedTo as string);
    const { sql, params } = this.audited(
      actor,
      teamId,
      statements.insertStatement(this.table, teamId, this.writerOf(actor), values),
    );
    return oneRow(await queryRows<CrmRow>(m, sql, [...params]), 'insert');
  }

  /** `ifMatch`: the version the caller last read (If-Match); another current version is 412 and changes nothing. */
  async update(actor: Actor, id: string, body: object, ifMatch?: number): Promise<CrmRow> {
    const teamId = this.teamOf(actor);
    const changes = this.pickWritable(body);
    const fields = Object.keys(changes);
    if (fields.length === 0) throw AppException.validation('Invalid input: send at least one field to change');
    for (const field of fields) {
      if (changes[field] === null && this.table.notNullFields.has(field)) {
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
        if (ifMatch !== undefined && old.version !== ifMatch)
          throw preconditionFailed(this.definition, old.version as number);
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
    const { sql, params } = this.audited(
      actor,
      teamId,
      statements.updateStatement(this.table, teamId, old, changes, expectedVersion),
    );
    const [row] = await queryRows<CrmRow>(m, sql, [...params]);
    if (!row) throw expectedVersion !== undefined ? preconditionFailed(this.definition) : this.notFound();
    return row;
  }

  /**
   * Moves the record to the trash: one UPDATE (deleted_at, version + 1) with its DELETE audit row, and in the
   * same round trip a look at whether a live row is still there, which tells a version mismatch (412) from
   * an unknown, invisible or already trashed id (404).
   */
  async remove(actor: Actor, id: string, ifMatch?: number): Promise<{ id: string; deleted: true }> {
    const teamId = this.teamOf(actor);
    const trash = this.audited(actor, teamId, statements.trashStatement(this.table, teamId, id, ifMatch));
    const still = statements.liveVersionStatement(this.table, teamId, id);
    return this.translateErrors('delete', async () => {
      // app.trash on: the UPDATE's new row (trashed) must pass the read policy its RETURNING is checked against.
      const [[row] = [], [live] = []] = await this.teamScope.batch<CrmRow>(this.scopeOf(actor, true), [trash, still]);
      if (row) return { id: row.id, deleted: true as const };
      if (live) throw preconditionFailed(this.definition, live.version as number);
      throw this.notFound();
    });
  }

  // ---------------------------------------------------------------------------------------------- trash

  /** The team's trashed rows (that the caller may see), most recently deleted first, keyset-paginated. */
  async listTrash(actor: Actor, query: PaginationQuery): Promise<Page<TrashedRow>> {
    const teamId = this.teamOf(actor);
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const page = statements.trashPageStatement(this.table, teamId, limit, query.cursor);
    const rows = await this.teamScope.rows<TrashedRow & { _k?: string | null }>(
      this.scopeOf(actor, true),
      page.statement,
    );
    const { items, nextCursor } = page.finish(rows);
    return new Page(items, { limit, nextCursor });
  }

  /** Takes a record out of the trash (version + 1, RESTORE audit row). A live, unknown or purged id is 404. */
  async restore(actor: Actor, id: string): Promise<CrmRow> {
    const teamId = this.teamOf(actor);
    const statement = this.audited(actor, teamId, statements.restoreStatement(this.table, teamId, id));
    return this.translateErrors('write', async () => {
      const [row] = await this.teamScope.rows<CrmRow>(this.scopeOf(actor, true), statement);
      if (!row) throw this.notFound();
      return row;
    });
  }

  /**
   * Deletes for good this team's rows trashed before `cutoff`, each with a PURGE audit row, a batch per
   * statement. Children are purged before parents by the caller's rounds (crm-trash-purge.service.ts).
   */
  async purgeTeam(teamId: string, cutoff: Date, referrers: readonly Referrer[], batch = 1000): Promise<number> {
    const system: Actor = { ip: '', userAgent: 'trash-purge' };
    let total = 0;
    for (;;) {
      const statement = this.audited(
        system,
        teamId,
        statements.purgeStatement(this.table, teamId, cutoff, referrers, batch),
      );
      const rows = await this.teamScope.rows<CrmRow>({ teamId, role: 'system', trash: true }, statement);
      total += rows.length;
      if (rows.length < batch) return total;
    }
  }

  /** A user's rows to `toUserId` (or nobody), each with an UPDATE audit row: see statements.reassignStatement. */
  reassignStatement(
    actor: Actor,
    teamId: string,
    fromUserId: string,
    toUserId: string | null,
    which: 'live' | 'rest',
  ): ScopedStatement {
    return this.audited(actor, teamId, statements.reassignStatement(this.table, teamId, fromUserId, toUserId, which));
  }

  // ---------------------------------------------------------------------------------------------- export

  /**
   * The team's rows (filtered like the list) as an object stream read in keyset batches, so memory stays flat
   * however large the team. The `data_export` event (and `data_export_large` over 1000 rows) is written
   * before the first row leaves.
   */
  async exportRows(actor: Actor, exportQuery: CrmListQueryShape): Promise<{ rows: Readable; count: number }> {
    const teamId = this.teamOf(actor);
    const query = resolveAssigneeFilter(actor, exportQuery);
    statements.resolveSort(this.table, query.sort);
    const scope = this.scopeOf(actor);
    const owner = restrictedUser(this.definition, actor);
    const counted = await this.teamScope.rows<{ n: number }>(
      scope,
      statements.countStatement(this.table, teamId, query, undefined, owner),
    );
    const count = Number(oneRow(counted, 'count').n);
    const filters = Object.fromEntries(Object.entries(exportQuery).filter(([, v]) => v !== undefined));
    const details = { resource: this.definition.resource, rows: count, format: 'csv', filters };
    await this.events.record('data_export', 'medium', eventContext(actor, details));
    if (count > LARGE_EXPORT_ROWS) await this.events.record('data_export_large', 'high', eventContext(actor, details));

    const rows = exportStream(this.teamScope, scope, (cursor) =>
      statements.pageStatement(this.table, teamId, { ...query, cursor }, EXPORT_BATCH, owner),
    );
    return { rows, count };
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
      if (value !== undefined && this.table.writable.has(key)) out[key] = value;
    }
    return out;
  }

  /** Referenced ids must be rows of the caller's team: anything else is a 404, as for the resource itself. */
  protected async checkReferences(m: EntityManager, teamId: string, values: Record<string, unknown>): Promise<void> {
    for (const ref of this.definition.references) {
      const id = values[ref.field];
      if (id === undefined || id === null) continue;
      // A trashed (or, under 'assigned', invisible) record cannot be linked.
      const { sql, params } = statements.referenceStatement(ref, teamId, id);
      const found = await queryRows(m, sql, [...params]);
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
   * The assignee must be an enabled user of the caller's team, else 404 naming the field. Checked here (in the
   * write's transaction), not left to the composite foreign key, which would accept a disabled user.
   */
  protected async checkAssignee(m: EntityManager, teamId: string, userId: string): Promise<void> {
    if (!(await this.members.isActiveMember(teamId, userId, { manager: m }))) throw assigneeNotFound();
  }

  /** Turns constraint violations into the contract's errors with a message that names the problem. */
  protected async translateErrors<T>(kind: 'write' | 'delete', work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw translateCrmError(this.definition, kind, err);
    }
  }

  // ---------------------------------------------------------------------------------------------- import

  /** What the CSV import (crm-import.service.ts) needs: the API-shape select list and the writable fields. */
  importShape(): CrmImportShape {
    const { selectList, writable, requiredFields, notNullFields } = this.table;
    const columns = new Map([...writable].map(([property, info]) => [property, info.column]));
    return { selectList, writable: columns, requiredFields, notNullFields };
  }

  /** The import's writes, with the constraint messages of POST. */
  translateImportErrors<T>(work: () => Promise<T>): Promise<T> {
    return this.translateErrors('write', work);
  }
}
