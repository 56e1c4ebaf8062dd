import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { escapeLiteral, Pool, PoolClient, QueryResult } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { UUID_PATTERN } from '../common/http/uuid.pipe';
import { type Actor } from '../common/security/principal';
import { queryRows } from './query-rows';

/** The parts of TypeORM's query runner state that a hand-started transaction must keep consistent. */
interface TransactionState {
  isTransactionActive: boolean;
  transactionDepth: number;
}

/**
 * Who a scoped transaction acts for. `role` and `userId` drive `crm_visible()` (the CRM tables' row policies
 * under the team's `agent_visibility`); `trash` lets the statements see and write trashed rows (trash list,
 * soft delete, restore, purge).
 *
 * - admin, api_key: every record of the team.
 * - agent, viewer: under 'assigned', only records assigned to `userId`.
 * - system: every record of the team (background jobs; never for a request).
 * - unset (a bare team id): like an agent with no user: under 'assigned' it sees no assigned records. Requests
 *   pass `actorScope(actor)`, so a forgotten role fails closed instead of showing a colleague's records.
 */
export type ScopeRole = 'admin' | 'agent' | 'viewer' | 'api_key' | 'system';
const SCOPE_ROLES: readonly string[] = ['admin', 'agent', 'viewer', 'api_key', 'system'];

export interface TenantScope {
  teamId: string;
  userId?: string | null;
  role?: ScopeRole;
  trash?: boolean;
}

/** A bare team id (today's callers) or the full scope. */
export type ScopeInput = string | TenantScope;

/** The scope of a request: its team, and its user and role (or api_key). */
export function actorScope(actor: Actor, options: { trash?: boolean } = {}): TenantScope {
  const principal = actor.principal;
  if (!principal?.teamId) throw new Error('actorScope: no principal');
  return principal.kind === 'user'
    ? { teamId: principal.teamId, userId: principal.userId, role: principal.role, trash: options.trash }
    : { teamId: principal.teamId, userId: null, role: 'api_key', trash: options.trash };
}

/** One statement of a batch, written with `$n` placeholders like any parameterised query. */
export interface ScopedStatement {
  sql: string;
  params: readonly unknown[];
}

/**
 * A parameter as an SQL literal. Strings go through node-postgres' escapeLiteral (quotes and backslashes
 * doubled, E'' form when needed), so the statement means exactly what the parameterised one would; values
 * that have no safe literal form (NUL bytes, non-finite numbers, objects) are refused.
 */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('sqlLiteral: a non-finite number has no SQL literal');
    return `(${String(value)})`;
  }
  if (typeof value === 'bigint') return `(${value.toString()})`;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new TypeError('sqlLiteral: invalid date');
    return `'${value.toISOString()}'`;
  }
  if (typeof value === 'string') {
    // The simple protocol carries the query as a C string: a NUL would cut it short.
    if (value.includes('\u0000')) throw new TypeError('sqlLiteral: NUL byte in a string');
    return escapeLiteral(value);
  }
  throw new TypeError(`sqlLiteral: no literal form for ${typeof value}`);
}

/** `$n` placeholders replaced by literals (every placeholder must have a parameter). */
export function inlineParameters(sql: string, params: readonly unknown[]): string {
  return sql.replace(/\$(\d+)/g, (_m, n: string) => {
    const index = Number(n) - 1;
    if (index < 0 || index >= params.length) throw new RangeError(`inlineParameters: no parameter for $${n}`);
    return sqlLiteral(params[index]);
  });
}

/**
 * Runs work in one transaction as the `app_tenant` role with `app.team_id` (and the caller's user, role and trash
 * mode: TenantScope) set, so Postgres row-level security limits every statement to that team and, for the CRM
 * tables, to the records the caller may see: a second wall behind each query's own filters.
 *
 * Two ways in. `run` hands out an EntityManager for interactive work (read, decide, write): BEGIN, the settings
 * and the role switch travel in one round trip, then one per statement, then COMMIT. `batch` sends a fixed
 * list of statements with the transaction around them as ONE simple-protocol round trip, parameters inlined
 * as escaped literals: the hot read paths (a list page, one record) cost the database and this process a
 * single exchange, like an unscoped query would.
 */
@Injectable()
export class TeamScope {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  /**
   * BEGIN, every setting and the role switch: three statements, one round trip. The team's agent_visibility is
   * read as the owner (before SET ROLE) into app.agent_visibility, so crm_visible() is a function of settings
   * only; a missing team reads as 'assigned' (fail closed).
   */
  static scopeSql(input: ScopeInput): string {
    return `START TRANSACTION; ${TeamScope.settingsSql(input)}; SET LOCAL ROLE app_tenant`;
  }

  /** The `SELECT set_config(…)` of a scope (transaction-local settings), checked like scopeSql. */
  static settingsSql(input: ScopeInput): string {
    const scope: TenantScope = typeof input === 'string' ? { teamId: input } : input;
    const { teamId, userId, role } = scope;
    // The ids come from a verified credential; the checks make inlining them safe (SET takes no parameters).
    if (!UUID_PATTERN.test(teamId)) throw new Error('TeamScope: team id is not a UUID');
    if (userId && !UUID_PATTERN.test(userId)) throw new Error('TeamScope: user id is not a UUID');
    if (role !== undefined && !SCOPE_ROLES.includes(role)) throw new Error('TeamScope: unknown role');
    const settings = [
      `set_config('app.team_id', '${teamId}', true)`,
      `set_config('app.user_id', '${userId ?? ''}', true)`,
      `set_config('app.role', '${role ?? ''}', true)`,
      `set_config('app.trash', '${scope.trash ? 'on' : 'off'}', true)`,
      `set_config('app.agent_visibility', coalesce((SELECT agent_visibility FROM teams WHERE id = '${teamId}'), 'assigned'), true)`,
    ];
    return `SELECT ${settings.join(', ')}`;
  }

  /**
   * Runs `work` as app_tenant inside a transaction the caller already holds on `m` (a users-admin change whose
   * CRM part must commit with it), then switches back to the connecting role for the rest of that transaction.
   * The connecting role has no access to the CRM tables itself (migration LeastPrivilegeApiRole).
   */
  static async within<T>(m: EntityManager, scope: TenantScope, work: () => Promise<T>): Promise<T> {
    const runner = m.queryRunner;
    if (!runner?.isTransactionActive) throw new Error('TeamScope.within: needs an open transaction');
    await runner.query(TeamScope.settingsSql(scope));
    await runner.query('SET LOCAL ROLE app_tenant');
    const result = await work();
    // Only on success: after a failure the transaction is aborted and its rollback undoes the switch.
    await runner.query('RESET ROLE');
    await runner.query(
      `SELECT set_config('app.team_id', '', true), set_config('app.user_id', '', true), set_config('app.role', '', true)`,
    );
    return result;
  }

  async run<T>(teamId: ScopeInput, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const scope = TeamScope.scopeSql(teamId);
    const runner = this.dataSource.createQueryRunner();
    const state = runner as unknown as TransactionState;
    await runner.connect();
    try {
      await runner.query(scope);
      // Tell TypeORM a transaction is open, so nested saves use savepoints instead of a second BEGIN.
      state.isTransactionActive = true;
      state.transactionDepth = 1;
      const result = await work(runner.manager);
      await runner.query('COMMIT');
      return result;
    } catch (err) {
      if (!runner.isReleased) await runner.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      state.isTransactionActive = false;
      state.transactionDepth = 0;
      await runner.release().catch(() => undefined);
    }
  }

  /** One statement's rows, scoped and in one round trip (see `batch`). */
  async rows<T = Record<string, unknown>>(teamId: ScopeInput, statement: ScopedStatement): Promise<T[]> {
    const [rows = []] = await this.batch<T>(teamId, [statement]);
    return rows;
  }

  /** The statements, in order and in one transaction, in one round trip; the rows of each. */
  async batch<T = Record<string, unknown>>(teamId: ScopeInput, statements: readonly ScopedStatement[]): Promise<T[][]> {
    let inlined: string[];
    try {
      inlined = statements.map((s) => inlineParameters(s.sql, s.params));
    } catch {
      // A value with no literal form (a NUL byte, say) still gets its answer, the parameterised way.
      return this.run(teamId, async (m) => {
        const out: T[][] = [];
        for (const s of statements) out.push(await queryRows<T>(m, s.sql, [...s.params]));
        return out;
      });
    }
    const text = [TeamScope.scopeSql(teamId), ...inlined, 'COMMIT'].join(';\n');
    const pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    const client: PoolClient = await pool.connect();
    let broken: Error | undefined;
    // A connection that dies while checked out (the server restarting) emits 'error' besides failing the
    // query: keep it from becoming an unhandled error, and discard that connection on release.
    const onError = (err: Error) => (broken = err);
    client.on('error', onError);
    try {
      const results = (await client.query(text)) as unknown as QueryResult[];
      // [START TRANSACTION, SELECT set_config…, SET ROLE, ...statements, COMMIT]
      return results.slice(3, 3 + statements.length).map((r) => r.rows as T[]);
    } catch (err) {
      // A failed statement leaves the transaction aborted: end it before the connection goes back.
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }
}
