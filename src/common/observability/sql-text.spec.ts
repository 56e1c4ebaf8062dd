import { escapeLiteral } from 'pg';
import { inlineParameters } from '../../database/team-scope';
import { maskSqlLiterals } from './sql-text';

describe('maskSqlLiterals', () => {
  it('keeps placeholders, identifiers and keywords, masks string and number literals', () => {
    expect(maskSqlLiterals(`SELECT id, t1.x2 FROM clients t1 WHERE team_id = $1 AND email = 'a@b.c' LIMIT 50`)).toBe(
      `SELECT id, t1.x2 FROM clients t1 WHERE team_id = $1 AND email = ? LIMIT ?`,
    );
    expect(maskSqlLiterals(`SELECT (42), -1.5e3, $12`)).toBe(`SELECT (?), -?, $12`);
  });

  it('masks what TeamScope inlines, whatever the value holds (quotes, backslashes, newlines, SQL)', () => {
    const values = [
      "O'Brien",
      'back\\slash',
      "it''s'; DROP TABLE clients; --",
      'multi\nline',
      'ada@example.com',
      '7d0c1c64-4f1e-4b5e-9d3c-1a2b3c4d5e6f',
      12345,
      new Date('2026-01-02T03:04:05Z'),
      "E'not an escape'",
      '$$dollar$$',
    ];
    const sql = inlineParameters(
      `INSERT INTO clients (a, b, c, d, e, f, g, h, i, j) VALUES (${values.map((_v, i) => `$${i + 1}`).join(', ')})`,
      values,
    );
    // (escapeLiteral writes E'…' with a space before it: spaces are compared collapsed.)
    const masked = maskSqlLiterals(sql).replace(/ +/g, ' ');
    expect(masked).toBe('INSERT INTO clients (a, b, c, d, e, f, g, h, i, j) VALUES (?, ?, ?, ?, ?, ?, (?), ?, ?, ?)');
    for (const value of values) if (typeof value === 'string') expect(masked).not.toContain(value.slice(0, 4));
  });

  it("masks pg's escapeLiteral output in every form it takes", () => {
    for (const raw of ['plain', "qu'ote", 'back\\slash', "both\\'"]) {
      expect(maskSqlLiterals(`SELECT ${escapeLiteral(raw)} AS v`).replace(/ +/g, ' ')).toBe('SELECT ? AS v');
    }
  });

  it('a quote inside one literal never opens another', () => {
    expect(maskSqlLiterals(`SELECT 'E', 'se''cret', E'a\\'b', 'x'`)).toBe('SELECT ?, ?, ?, ?');
  });

  it('masks the set_config values of the scope preamble', () => {
    const text = `START TRANSACTION; SELECT set_config('app.team_id', '0e3e6784-de7e-4f13-9dd5-98a1dd68d0e0', true); SET LOCAL ROLE app_tenant`;
    expect(maskSqlLiterals(text)).toBe(`START TRANSACTION; SELECT set_config(?, ?, true); SET LOCAL ROLE app_tenant`);
  });
});
