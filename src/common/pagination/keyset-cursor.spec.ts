import { decodeCursor, encodeCursor } from './keyset-cursor';

describe('keyset cursor', () => {
  it('round-trips', () => {
    const c = encodeCursor({ s: '-createdAt', v: '2024-01-01T00:00:00.000001Z', i: 'abc' });
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c)).toEqual({ s: '-createdAt', v: '2024-01-01T00:00:00.000001Z', i: 'abc' });
  });

  it.each([
    '',
    'not base64!',
    Buffer.from('not json').toString('base64url'),
    Buffer.from('[1]').toString('base64url'),
    Buffer.from('null').toString('base64url'),
    'x'.repeat(2000),
  ])('refuses %p with a 400 VALIDATION_ERROR', (bad) => {
    expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
  });
});
