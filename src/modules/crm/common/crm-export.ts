import { Readable } from 'node:stream';
import { type ScopedStatement, type TeamScope, type TenantScope } from '../../../database/team-scope';
import { type CrmRow, type PageStatement } from './crm-statements';

/**
 * The rows of a list as an object stream read in keyset batches (`page(cursor)` builds each batch's
 * statement), so memory stays flat however many rows there are.
 */
export function exportStream(
  teamScope: TeamScope,
  scope: TenantScope,
  page: (cursor: string | undefined) => PageStatement,
): Readable {
  const batches = async function* (): AsyncGenerator<CrmRow> {
    let cursor: string | undefined;
    do {
      const batch = page(cursor);
      const statement: ScopedStatement = batch.statement;
      const rows = await teamScope.rows<CrmRow & { _k?: string | null }>(scope, statement);
      const { items, nextCursor } = batch.finish(rows);
      for (const row of items) yield row;
      cursor = nextCursor ?? undefined;
    } while (cursor);
  };
  return Readable.from(batches());
}
