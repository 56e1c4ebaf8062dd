import { stringify, type Stringifier } from 'csv-stringify';
import { type Readable, pipeline } from 'node:stream';
import { Logger } from '@nestjs/common';

const logger = new Logger('CrmExport');

/**
 * A cell that a spreadsheet would run as a formula (=, @, +, - …) gets a leading apostrophe (OWASP CSV
 * injection). Phone-like values such as "+1 555 0100" or "-12.5" are left alone.
 */
export function neutraliseFormula(value: string): string {
  if (/^[=@\t\r]/.test(value)) return `'${value}`;
  if (/^[+-]/.test(value) && !/^[+-][\d\s().-]*$/.test(value)) return `'${value}`;
  return value;
}

/** Object rows → CSV text with a header row; errors in the source end the response instead of hanging it. */
export function toCsv(rows: Readable, columns: string[]): Stringifier {
  const csv = stringify({
    header: true,
    columns,
    cast: {
      date: (d: Date) => d.toISOString(),
      boolean: (b: boolean) => (b ? 'true' : 'false'),
      string: (s: string) => neutraliseFormula(s),
      object: (o: object) => JSON.stringify(o),
    },
  });
  pipeline(rows, csv, (err) => {
    if (err) logger.warn(`export stream ended early: ${err.message}`);
  });
  return csv;
}
