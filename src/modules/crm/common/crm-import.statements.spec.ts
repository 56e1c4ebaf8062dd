import {
  ACTIVE_ASSIGNEES_SQL,
  type ImportColumn,
  TEAM_IMPORT_LOCK_NAMESPACE,
  TEAM_IMPORT_LOCK_SQL,
  countChangedSql,
  existingByEmailSql,
  existingByPhoneSql,
  insertSql,
  recordsetColumns,
  recordsetJson,
  referencedIdsSql,
  updateSql,
} from './crm-import.statements';

const target = { table: 'leads', selectList: 'id, first_name AS "firstName", version' };
const columns: ImportColumn[] = [
  { column: 'first_name', sqlType: 'text', defaultSql: null },
  { column: 'status', sqlType: 'text', defaultSql: "'new'" },
  { column: 'budget', sqlType: 'numeric', defaultSql: null },
];

describe('CSV import statements', () => {
  it('generate the SQL pinned below (a change here is a change to what the import runs)', () => {
    expect({
      lock: TEAM_IMPORT_LOCK_SQL,
      referencedIds: referencedIdsSql('clients'),
      assignees: ACTIVE_ASSIGNEES_SQL,
      byEmail: existingByEmailSql('leads'),
      byPhone: existingByPhoneSql('leads'),
      insert: insertSql(target, columns),
      update: updateSql(target, columns),
    }).toMatchSnapshot();
  });

  it('the team lock is the two-key advisory lock in the CRMI namespace, tried without waiting', () => {
    expect(TEAM_IMPORT_LOCK_NAMESPACE).toBe(Buffer.from('CRMI').readInt32BE(0));
    expect(TEAM_IMPORT_LOCK_SQL).toMatch(/^SELECT pg_try_advisory_xact_lock\(1129467209, hashtext\(\$1\)\)/);
  });

  it('recordsetColumns and recordsetJson agree: n, c0…cN (absent when empty), rid', () => {
    expect(recordsetColumns(columns, false)).toBe('n int, c0 text, c1 text, c2 numeric');
    expect(recordsetColumns(columns, true)).toBe('n int, c0 text, c1 text, c2 numeric, rid uuid');
    const rows = [
      { firstName: 'Ada', budget: 12.5 },
      { firstName: 'Alan', status: null },
    ];
    expect(JSON.parse(recordsetJson(['firstName', 'status', 'budget'], rows))).toEqual([
      { n: 0, c0: 'Ada', c2: 12.5 },
      { n: 1, c0: 'Alan' },
    ]);
    expect(JSON.parse(recordsetJson(['firstName'], rows, ['id-1', 'id-2'], 500))).toEqual([
      { n: 500, c0: 'Ada', rid: 'id-1' },
      { n: 501, c0: 'Alan', rid: 'id-2' },
    ]);
  });

  it('countChangedSql swaps the audited tail for a count, and leaves other statements alone', () => {
    expect(countChangedSql('WITH changed AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM changed  \n')).toBe(
      'WITH changed AS (UPDATE t SET a = 1 RETURNING *) SELECT count(*)::int AS n FROM changed',
    );
    expect(countChangedSql('SELECT 1')).toBeUndefined();
  });
});
