import { decodeCursor, encodeCursor } from './keyset-cursor';
import { keyset, readKeysetCursor, validKeyValue } from './keyset';

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const AT = '2024-05-06T07:08:09.123456Z';

/** Rows as the statement returns them: the API row plus `_k`. */
const rows = (n: number, k = AT) => Array.from({ length: n }, (_, i) => ({ id: ID(n - i), name: `r${i}`, _k: k }));

describe('keyset', () => {
  it('first page: no cursor condition, key text selected, ORDER BY key then id, LIMIT limit + 1', () => {
    const params: unknown[] = ['team'];
    const page = keyset(params, { key: 'created_at', cast: 'timestamptz', desc: true, scope: 'x', limit: 25 });
    expect(page.where).toBeNull();
    expect(page.select).toBe(`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "_k"`);
    expect(page.tail).toBe('ORDER BY created_at DESC, id DESC LIMIT $2');
    expect(params).toEqual(['team', 26]);
  });

  it('a cursor becomes (key, id) < ($n, $m) descending, > ascending, with typed parameters', () => {
    const cursor = encodeCursor({ s: 'x', v: AT, i: ID(7) });
    const desc: unknown[] = ['team', 'filter'];
    const d = keyset(desc, { key: 'created_at', cast: 'timestamptz', desc: true, scope: 'x', limit: 10, cursor });
    expect(d.where).toBe('(created_at, id) < ($3::timestamptz, $4::uuid)');
    expect(d.tail).toBe('ORDER BY created_at DESC, id DESC LIMIT $5');
    expect(desc).toEqual(['team', 'filter', AT, ID(7), 11]);
    const asc: unknown[] = ['team'];
    const a = keyset(asc, {
      key: 'last_name',
      cast: 'text',
      desc: false,
      scope: 'y',
      limit: 5,
      id: 'e.id',
      cursor: encodeCursor({ s: 'y', v: "O'Hara", i: ID(1) }),
    });
    expect(a.where).toBe('(last_name, e.id) > ($2::text, $3::uuid)');
    expect(a.tail).toBe('ORDER BY last_name ASC, e.id ASC LIMIT $4');
    expect(a.select).toBe('(last_name)::text AS "_k"');
  });

  it('finish trims the extra row, strips _k and encodes the exact key tie-broken by id', () => {
    const page = keyset([], { key: 'created_at', cast: 'timestamptz', desc: true, scope: 'x', limit: 3 });
    const fetched = rows(4);
    const { items, nextCursor } = page.finish(fetched);
    expect(items.map((r) => r.id)).toEqual([ID(4), ID(3), ID(2)]);
    expect(items.every((r) => !('_k' in r))).toBe(true);
    // Same key on every row: only the id tells where the next page starts.
    expect(decodeCursor(nextCursor!)).toEqual({ s: 'x', v: AT, i: ID(2) });
    expect(readKeysetCursor(nextCursor!, 'x', 'timestamptz')).toEqual({ value: AT, id: ID(2) });
  });

  it('round trip: the next cursor feeds the next statement with the exact microsecond key and id', () => {
    const first = keyset([], { key: 'created_at', cast: 'timestamptz', desc: true, scope: 'x', limit: 2 });
    const { nextCursor } = first.finish(rows(3));
    const params: unknown[] = [];
    const second = keyset(params, {
      key: 'created_at',
      cast: 'timestamptz',
      desc: true,
      scope: 'x',
      limit: 2,
      cursor: nextCursor,
    });
    expect(second.where).toBe('(created_at, id) < ($1::timestamptz, $2::uuid)');
    expect(params).toEqual([AT, ID(2), 3]);
  });

  it('the last page has no next cursor', () => {
    const page = keyset([], { key: 'created_at', cast: 'timestamptz', desc: true, scope: 'x', limit: 3 });
    expect(page.finish(rows(3)).nextCursor).toBeNull();
    expect(page.finish([]).nextCursor).toBeNull();
    expect(page.finish([]).items).toEqual([]);
  });

  it('validates key values by type', () => {
    expect(validKeyValue('timestamptz', AT)).toBe(true);
    expect(validKeyValue('timestamptz', '2024-02-29T23:59:59.999999Z')).toBe(true);
    for (const bad of [
      '2024-05-06T07:08:09.123Z',
      '2023-02-29T00:00:00.000000Z',
      '2024-13-01T00:00:00.000000Z',
      '2024-01-01T24:00:00.000000Z',
      '2024-01-01 00:00:00.000000Z',
      123,
      null,
    ])
      expect(validKeyValue('timestamptz', bad)).toBe(false);
    expect(validKeyValue('date', '2024-02-29')).toBe(true);
    expect(validKeyValue('date', '2024-02-30')).toBe(false);
    expect(validKeyValue('numeric', '-1')).toBe(true);
    expect(validKeyValue('numeric', '1234.50')).toBe(true);
    expect(validKeyValue('numeric', '1e5')).toBe(false);
    expect(validKeyValue('numeric', "1' OR 1=1")).toBe(false);
    expect(validKeyValue('text', "O'Hara")).toBe(true);
    expect(validKeyValue('text', 'a\u0000b')).toBe(false);
    expect(validKeyValue('text', 'x'.repeat(601))).toBe(false);
  });

  it.each([
    ['garbage', 'not base64!'],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    ['an array', Buffer.from('["a"]').toString('base64url')],
    ['another list', encodeCursor({ s: 'other', v: AT, i: ID(1) })],
    ['millisecond key', encodeCursor({ s: 'x', v: '2024-05-06T07:08:09.123Z', i: ID(1) })],
    ['injection in the key', encodeCursor({ s: 'x', v: "x' OR 1=1 --", i: ID(1) })],
    ['bad id', encodeCursor({ s: 'x', v: AT, i: 'not-a-uuid' })],
    ['missing id', encodeCursor({ s: 'x', v: AT })],
    ['null key', encodeCursor({ s: 'x', v: null, i: ID(1) })],
    ['extra fields', encodeCursor({ s: 'x', v: AT, i: ID(1), more: 1 })],
  ])('refuses a cursor with %s (400 VALIDATION_ERROR) before any parameter is pushed', (_what, cursor) => {
    const params: unknown[] = ['team'];
    expect(() =>
      keyset(params, { key: 'created_at', cast: 'timestamptz', desc: true, scope: 'x', limit: 25, cursor }),
    ).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
    expect(params).toEqual(['team']);
  });
});
