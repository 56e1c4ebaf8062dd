/**
 * SQL text for a trace with every literal replaced by `?`: string literals ('…', E'…'), numbers and
 * `(number)`-style inlined values. TeamScope.batch sends its statements with their parameters inlined as escaped
 * literals (one simple-protocol round trip), so the text the driver sees carries ids, names and emails; a trace
 * must carry the statement's shape only. `$n` placeholders, identifiers and keywords stay.
 */
/** One left-to-right pass, so a quote inside one literal can never start another. */
const LITERAL =
  /\bE'(?:[^'\\]|''|\\.)*'|'(?:[^']|'')*'|\$([A-Za-z_]\w*)?\$[\s\S]*?\$\1\$|(?<![\w$.])\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.])/gi;

export function maskSqlLiterals(sql: string): string {
  // E'…' (backslash escapes), '…' ('' is a quote inside), $tag$…$tag$, and numbers that are not part of an
  // identifier or a $n placeholder.
  return sql.replace(LITERAL, '?');
}
