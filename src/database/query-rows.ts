import { type EntityManager } from 'typeorm';

/**
 * Raw SQL returning the rows, whatever the statement. (`EntityManager.query` returns `[rows, count]` for
 * UPDATE/DELETE … RETURNING on Postgres, and rows for everything else.)
 */
export async function queryRows<T = Record<string, unknown>>(
  manager: EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  if (manager.queryRunner) return (await manager.queryRunner.query(sql, params, true)).records as T[];
  const runner = manager.connection.createQueryRunner();
  try {
    return (await runner.query(sql, params, true)).records as T[];
  } finally {
    await runner.release();
  }
}

/** The single row a statement is known to return (an INSERT … RETURNING, a row read under its lock). */
export function oneRow<T>(rows: readonly T[], what = 'statement'): T {
  const row = rows[0];
  if (row === undefined) throw new Error(`${what} returned no row`);
  return row;
}

/** Raw SQL returning the number of rows it affected (UPDATE/DELETE/INSERT), from the driver's row count. */
export async function queryAffected(manager: EntityManager, sql: string, params: unknown[] = []): Promise<number> {
  if (manager.queryRunner) return (await manager.queryRunner.query(sql, params, true)).affected ?? 0;
  const runner = manager.connection.createQueryRunner();
  try {
    return (await runner.query(sql, params, true)).affected ?? 0;
  } finally {
    await runner.release();
  }
}
