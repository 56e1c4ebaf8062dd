import { AppException } from '../../../common/http/app.exception';
import { etagOf, parseIfMatch } from './if-match';

describe('parseIfMatch', () => {
  it('reads "3", 3 and W/"3" (with surrounding spaces) as version 3', () => {
    for (const header of ['"3"', '3', 'W/"3"', ' "3" ']) expect(parseIfMatch(header)).toBe(3);
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(parseIfMatch('"2147483647"')).toBe(2147483647);
    expect(parseIfMatch(etagOf(17))).toBe(17);
  });

  it.each([
    '',
    '*',
    '"0"',
    '0',
    '-1',
    '"3", "4"',
    'W/3',
    'w/"3"',
    '"3',
    "'3'",
    '"abc"',
    '3.0',
    '"2147483648"',
    '1e3',
    '"03"',
  ])('refuses %p with 400 VALIDATION_ERROR', (header) => {
    let caught: unknown;
    try {
      parseIfMatch(header);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppException);
    expect((caught as AppException).code).toBe('VALIDATION_ERROR');
  });

  it('refuses a repeated header', () => {
    expect(() => parseIfMatch(['"3"', '"4"'])).toThrow(AppException);
  });
});
