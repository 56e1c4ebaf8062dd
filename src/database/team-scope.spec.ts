import { escapeLiteral } from 'pg';
import { TeamScope, actorScope, inlineParameters, sqlLiteral } from './team-scope';

/**
 * TeamScope.batch inlines parameters as literals and sends one simple-protocol query: every literal must mean
 * exactly the value the parameterised query would have bound, or be refused (then batch falls back to the
 * parameterised path; that fallback and the round trip through Postgres are in test/team-scope.e2e-spec.ts).
 */
describe('sqlLiteral', () => {
  it('quotes strings, doubling single quotes', () => {
    expect(sqlLiteral('plain')).toBe("'plain'");
    expect(sqlLiteral('')).toBe("''");
    expect(sqlLiteral("O'Brien")).toBe("'O''Brien'");
    expect(sqlLiteral("''")).toBe("''''''");
    expect(sqlLiteral("'; DROP TABLE clients; --")).toBe("'''; DROP TABLE clients; --'");
  });

  it("doubles backslashes and switches to the E'' form (node-postgres escapeLiteral, with its leading space)", () => {
    expect(sqlLiteral('a\\b')).toBe(" E'a\\\\b'");
    expect(sqlLiteral('\\')).toBe(" E'\\\\'");
    // A trailing backslash cannot escape the closing quote.
    expect(sqlLiteral("O'Brien\\")).toBe(" E'O''Brien\\\\'");
    expect(sqlLiteral("\\'")).toBe(" E'\\\\'''");
    // Exactly what node-postgres would produce, for a range of awkward strings.
    for (const s of ["E'x'", '$1', '$$', '--', '/*', 'ß🙂', 'line\nbreak\ttab\r', "\\x27'", 'a\\\\b'])
      expect(sqlLiteral(s)).toBe(escapeLiteral(s));
  });

  it('refuses a string with a NUL byte (the simple protocol would cut the query short there)', () => {
    expect(() => sqlLiteral('before\u0000after')).toThrow(TypeError);
    expect(() => sqlLiteral('\u0000')).toThrow(/NUL/);
  });

  it('writes booleans as TRUE / FALSE', () => {
    expect(sqlLiteral(true)).toBe('TRUE');
    expect(sqlLiteral(false)).toBe('FALSE');
  });

  it('writes finite numbers in parentheses (so a negative after a minus cannot become a -- comment)', () => {
    expect(sqlLiteral(0)).toBe('(0)');
    expect(sqlLiteral(42)).toBe('(42)');
    expect(sqlLiteral(-5)).toBe('(-5)');
    expect(sqlLiteral(1.5)).toBe('(1.5)');
    expect(sqlLiteral(1e21)).toBe('(1e+21)');
    expect(sqlLiteral(-0)).toBe('(0)');
    expect(inlineParameters('SELECT 1-$1', [-5])).toBe('SELECT 1-(-5)');
  });

  it('refuses non-finite numbers', () => {
    expect(() => sqlLiteral(Number.NaN)).toThrow(TypeError);
    expect(() => sqlLiteral(Number.POSITIVE_INFINITY)).toThrow(/non-finite/);
    expect(() => sqlLiteral(Number.NEGATIVE_INFINITY)).toThrow(TypeError);
  });

  it('writes bigints exactly, beyond 2^53', () => {
    expect(sqlLiteral(BigInt('9007199254740993'))).toBe('(9007199254740993)');
    expect(sqlLiteral(BigInt(-1))).toBe('(-1)');
  });

  it('writes Dates as quoted UTC ISO timestamps and refuses invalid ones', () => {
    expect(sqlLiteral(new Date(Date.UTC(2026, 11, 3, 10, 20, 30, 456)))).toBe("'2026-12-03T10:20:30.456Z'");
    expect(() => sqlLiteral(new Date('not a date'))).toThrow(/invalid date/);
  });

  it('writes null and undefined as NULL', () => {
    expect(sqlLiteral(null)).toBe('NULL');
    expect(sqlLiteral(undefined)).toBe('NULL');
  });

  it('refuses values with no literal form (objects, arrays, buffers, symbols, functions)', () => {
    for (const value of [{}, { a: 1 }, ['a'], Buffer.from('x'), Symbol('s'), () => 1])
      expect(() => sqlLiteral(value)).toThrow(/no literal form/);
  });
});

describe('inlineParameters', () => {
  it('replaces each $n with the literal of the n-th parameter', () => {
    expect(inlineParameters('SELECT * FROM t WHERE a = $1 AND b = $2', ["O'Brien", 3])).toBe(
      "SELECT * FROM t WHERE a = 'O''Brien' AND b = (3)",
    );
    // Repeated and out-of-order placeholders.
    expect(inlineParameters('$2 $1 $2', ['x', null])).toBe("NULL 'x' NULL");
  });

  it('reads $10 as the tenth parameter, not $1 followed by 0', () => {
    const params = Array.from({ length: 12 }, (_v, i) => `p${i + 1}`);
    expect(inlineParameters('$1,$10,$11,$12,$2', params)).toBe("'p1','p10','p11','p12','p2'");
    expect(inlineParameters('$1 0', params)).toBe("'p1' 0");
  });

  it('does not re-read placeholders that appear inside inlined values', () => {
    expect(inlineParameters('SELECT $1, $2', ['$2', 'second'])).toBe("SELECT '$2', 'second'");
    expect(inlineParameters('SELECT $1', ["E'x'"])).toBe("SELECT 'E''x'''");
  });

  it('refuses a placeholder with no parameter', () => {
    expect(() => inlineParameters('SELECT $1, $2', ['only one'])).toThrow(RangeError);
    expect(() => inlineParameters('SELECT $2', ['a'])).toThrow(/no parameter for \$2/);
    expect(() => inlineParameters('SELECT $0', ['a'])).toThrow(/no parameter for \$0/);
    expect(() =>
      inlineParameters(
        'SELECT $10',
        Array.from({ length: 9 }, () => 'x'),
      ),
    ).toThrow(/\$10/);
    expect(() => inlineParameters('SELECT $1', [])).toThrow(RangeError);
  });

  it('passes the refusals of sqlLiteral through (batch then takes the parameterised path)', () => {
    expect(() => inlineParameters('SELECT $1', ['nul\u0000byte'])).toThrow(/NUL/);
    expect(() => inlineParameters('SELECT $1', [Number.NaN])).toThrow(/non-finite/);
  });

  it('leaves SQL without placeholders unchanged, with or without parameters', () => {
    expect(inlineParameters('SELECT 1', [])).toBe('SELECT 1');
    expect(inlineParameters('SELECT 1', ['unused'])).toBe('SELECT 1');
  });
});

describe('TeamScope.scopeSql', () => {
  const TEAM = '11111111-1111-4111-8111-111111111111';
  const USER = '22222222-2222-4222-8222-222222222222';

  it('sets every setting and the role in three statements; a bare team id has no user, no role, no trash', () => {
    const sql = TeamScope.scopeSql(TEAM);
    expect(sql.split(';').map((s) => s.trim().split(' ')[0])).toEqual(['START', 'SELECT', 'SET']);
    expect(sql).toContain(`set_config('app.team_id', '${TEAM}', true)`);
    expect(sql).toContain(`set_config('app.user_id', '', true)`);
    expect(sql).toContain(`set_config('app.role', '', true)`);
    expect(sql).toContain(`set_config('app.trash', 'off', true)`);
    // The team's rule is read before the role switch; a missing team reads as 'assigned'.
    expect(sql.indexOf('agent_visibility')).toBeLessThan(sql.indexOf('SET LOCAL ROLE app_tenant'));
    expect(sql).toContain(`'assigned'), true)`);
  });

  it('carries the user, role and trash of a scope object', () => {
    const sql = TeamScope.scopeSql({ teamId: TEAM, userId: USER, role: 'agent', trash: true });
    expect(sql).toContain(`set_config('app.user_id', '${USER}', true)`);
    expect(sql).toContain(`set_config('app.role', 'agent', true)`);
    expect(sql).toContain(`set_config('app.trash', 'on', true)`);
  });

  it('refuses anything that is not a UUID or a known role (they are inlined)', () => {
    expect(() => TeamScope.scopeSql(`${TEAM}'; DROP TABLE clients; --`)).toThrow(/team id/);
    expect(() => TeamScope.scopeSql({ teamId: TEAM, userId: "x' OR '1'='1" })).toThrow(/user id/);
    expect(() => TeamScope.scopeSql({ teamId: TEAM, role: 'superuser' as never })).toThrow(/role/);
  });
});

describe('actorScope', () => {
  const TEAM = '11111111-1111-4111-8111-111111111111';
  it('a user acts with its id and role, an API key as api_key with no user', () => {
    const user = actorScope(
      {
        principal: {
          kind: 'user',
          userId: 'u',
          teamId: TEAM,
          role: 'viewer',
          email: 'e',
          sessionId: 's',
          authTime: 0,
          mfaEnabled: false,
        },
        ip: '',
        userAgent: null,
      },
      { trash: true },
    );
    expect(user).toEqual({ teamId: TEAM, userId: 'u', role: 'viewer', trash: true });
    const key = actorScope({
      principal: { kind: 'apiKey', apiKeyId: 'k', teamId: TEAM, scopes: [], name: 'n', createdBy: null },
      ip: '',
      userAgent: null,
    });
    expect(key).toEqual({ teamId: TEAM, userId: null, role: 'api_key', trash: undefined });
    expect(() => actorScope({ ip: '', userAgent: null })).toThrow();
  });
});
