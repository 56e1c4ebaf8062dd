import { EntityManager } from 'typeorm';

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
