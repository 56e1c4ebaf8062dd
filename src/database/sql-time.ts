/**
 * SQL producing a timestamptz as UTC ISO-8601 text: 'ms' exactly as JavaScript's toISOString prints it (API
 * values), 'us' to the microsecond (keyset cursors, which must not lose order information).
 */
export function utcIsoSql(expr: string, precision: 'ms' | 'us'): string {
  return `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.${precision === 'ms' ? 'MS' : 'US'}"Z"')`;
}
