import { Readable } from 'node:stream';
import { neutraliseFormula, toCsv } from './crm-csv';

describe('CRM CSV export', () => {
  it('neutralises formulas but keeps phone numbers and signed numbers', () => {
    expect(neutraliseFormula('=HYPERLINK("http://x")')).toBe('\'=HYPERLINK("http://x")');
    expect(neutraliseFormula('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(neutraliseFormula('+cmd|calc')).toBe("'+cmd|calc");
    expect(neutraliseFormula('-2+3+cmd')).toBe("'-2+3+cmd");
    expect(neutraliseFormula('+1 (555) 010-2030')).toBe('+1 (555) 010-2030');
    expect(neutraliseFormula('-12.5')).toBe('-12.5');
    expect(neutraliseFormula('Ada Lovelace')).toBe('Ada Lovelace');
  });

  it('writes a header and one line per row, quoting where needed', async () => {
    const rows = Readable.from([
      { id: '1', name: 'Ada, Countess', when: new Date('2024-01-02T03:04:05.006Z'), price: '10.50', n: null },
      { id: '2', name: 'Line\nbreak', when: new Date('2024-01-03T00:00:00.000Z'), price: null, n: 2.5 },
    ]);
    let text = '';
    for await (const chunk of toCsv(rows, ['id', 'name', 'when', 'price', 'n'])) text += chunk;
    expect(text).toBe(
      'id,name,when,price,n\n1,"Ada, Countess",2024-01-02T03:04:05.006Z,10.50,\n2,"Line\nbreak",2024-01-03T00:00:00.000Z,,2.5\n',
    );
  });
});
