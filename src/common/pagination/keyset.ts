import { UUID_PATTERN } from '../http/uuid.pipe';
import { utcIsoSql } from '../../database/sql-time';
import { decodeCursor, encodeCursor, invalidCursor } from './keyset-cursor';

/** How a sort key is compared, cast and printed exactly. */
export type KeysetCast = 'timestamptz' | 'date' | 'numeric' | 'text';

export interface KeysetOptions {
  /** SQL expression of the sort key; must be NOT NULL (and ideally backed by an index `(…, key, id)`). */
  key: string;
  cast: KeysetCast;
  /** Newest/largest first. */
  desc: boolean;
  /** What the cursor belongs to (a list and its sort); a cursor made for anything else is refused. */
  scope: string;
  /** Page size; the statement fetches one more row to know whether another page exists. */
  limit: number;
  /** The client's cursor (`meta.nextCursor` of the previous page), if any. */
  cursor?: string | null;
  /** SQL expression of the unique tie-breaker (a uuid). Default `id`. */
  id?: string;
}

/** The internal column carrying the exact sort key text; `finish` removes it from each row. */
export const KEYSET_KEY_COLUMN = '_k';

export interface Keyset {
  /** The cursor condition `(key, id) < ($n::cast, $m::uuid)` (`>` ascending), or null on the first page. */
  where: string | null;
  /** The extra SELECT item: the sort key as exact text, `AS "_k"`. */
  select: string;
  /** `key DESC, id DESC` (or ASC), without the ORDER BY keyword. */
  orderBy: string;
  /** `LIMIT $n` (limit + 1). */
  limitClause: string;
  /** The full tail `ORDER BY … LIMIT $n`. */
  tail: string;
  /** Trims the extra row, strips `_k` and encodes the next cursor from the last row's exact key and id. */
  finish<T extends { id: string }>(rows: (T & { _k?: string | null })[]): { items: T[]; nextCursor: string | null };
}

const TIMESTAMP = /^(\d{4,6})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/;
const DATE = /^(\d{4,6})-(\d{2})-(\d{2})$/;
const NUMERIC = /^-?\d{1,20}(\.\d{1,10})?$/;
const MAX_TEXT = 600;

/** Whether the matched y, m, d (and h, mi, s) are a real calendar moment, so the cast in SQL cannot fail. */
function realMoment(match: RegExpExecArray | null): boolean {
  if (!match) return false;
  const [year = NaN, month = NaN, day = NaN, hour = 0, minute = 0, second = 0] = match.slice(1).map(Number);
  if (!(year >= 1 && month >= 1 && month <= 12 && day >= 1 && hour <= 23 && minute <= 59 && second <= 59)) return false;
  const at = new Date(0);
  at.setUTCFullYear(year, month - 1, day);
  return at.getUTCFullYear() === year && at.getUTCMonth() === month - 1 && at.getUTCDate() === day;
}

/** Whether `value` is text the key of type `cast` can have produced (checked before SQL ever sees it). */
export function validKeyValue(cast: KeysetCast, value: unknown): value is string {
  if (typeof value !== 'string') return false;
  switch (cast) {
    case 'timestamptz':
      return realMoment(TIMESTAMP.exec(value));
    case 'date':
      return realMoment(DATE.exec(value));
    case 'numeric':
      return NUMERIC.test(value);
    default:
      return value.length <= MAX_TEXT && !value.includes('\u0000');
  }
}

/** The sort key as exact text (timestamps to the microsecond in UTC, whatever the session's DateStyle). */
export function keyText(expr: string, cast: KeysetCast): string {
  switch (cast) {
    case 'timestamptz':
      return utcIsoSql(expr, 'us');
    case 'date':
      return `to_char(${expr}, 'YYYY-MM-DD')`;
    default:
      return `(${expr})::text`;
  }
}

/** Decodes and checks a cursor of `scope`: the key value of `cast` and the row id. Anything else is a 400. */
export function readKeysetCursor(cursor: string, scope: string, cast: KeysetCast): { value: string; id: string } {
  const payload = decodeCursor(cursor);
  const { s, v, i } = payload;
  if (s !== scope || !validKeyValue(cast, v) || typeof i !== 'string' || !UUID_PATTERN.test(i)) throw invalidCursor();
  if (Object.keys(payload).length !== 3) throw invalidCursor();
  return { value: v, id: i };
}

export function writeKeysetCursor(scope: string, value: string, id: string): string {
  return encodeCursor({ s: scope, v: value, i: id });
}

/**
 * One keyset page over `(key, id)`. Pushes its parameters (the cursor's key and id, then limit + 1) onto
 * `params`, so call it after the filters have pushed theirs and put `tail` last:
 *
 *   const page = keyset(params, { key: 'created_at', cast: 'timestamptz', desc: true, scope: 'x', limit, cursor });
 *   if (page.where) where.push(page.where);
 *   sql = `SELECT cols, ${page.select} FROM t WHERE ${where.join(' AND ')} ${page.tail}`;
 *   const { items, nextCursor } = page.finish(rows);
 */
export function keyset(params: unknown[], options: KeysetOptions): Keyset {
  const { key, cast, desc, scope, limit } = options;
  const id = options.id ?? 'id';
  let where: string | null = null;
  if (options.cursor) {
    const cursor = readKeysetCursor(options.cursor, scope, cast);
    params.push(cursor.value, cursor.id);
    where = `(${key}, ${id}) ${desc ? '<' : '>'} ($${params.length - 1}::${cast}, $${params.length}::uuid)`;
  }
  params.push(limit + 1);
  const dir = desc ? 'DESC' : 'ASC';
  const orderBy = `${key} ${dir}, ${id} ${dir}`;
  const limitClause = `LIMIT $${params.length}`;
  return {
    where,
    select: `${keyText(key, cast)} AS "${KEYSET_KEY_COLUMN}"`,
    orderBy,
    limitClause,
    tail: `ORDER BY ${orderBy} ${limitClause}`,
    finish<T extends { id: string }>(rows: (T & { _k?: string | null })[]) {
      const more = rows.length > limit;
      const page = more ? rows.slice(0, limit) : rows;
      const last = page[page.length - 1];
      let nextCursor: string | null = null;
      if (more && last) {
        if (typeof last._k !== 'string') throw new Error('keyset: the sort key of the last row is missing or NULL');
        nextCursor = writeKeysetCursor(scope, last._k, last.id);
      }
      for (const row of page) delete row._k;
      return { items: page as T[], nextCursor };
    },
  };
}
