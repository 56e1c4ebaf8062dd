import { createHash, randomBytes } from 'node:crypto';
import { KeyedVerifier } from './keyed-verifier';

describe('KeyedVerifier', () => {
  const key = randomBytes(32);
  const verifier = new KeyedVerifier(key, 'backup-codes');

  it('is deterministic for one key, purpose and owner', () => {
    expect(verifier.digest('abcd2345', 'user-1')).toBe(
      new KeyedVerifier(key, 'backup-codes').digest('abcd2345', 'user-1'),
    );
    expect(verifier.digest('abcd2345', 'user-1')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs by owner, purpose and key, and is not the plain sha256 a dump could be searched against', () => {
    const d = verifier.digest('abcd2345', 'user-1');
    expect(verifier.digest('abcd2345', 'user-2')).not.toBe(d);
    expect(new KeyedVerifier(key, 'other').digest('abcd2345', 'user-1')).not.toBe(d);
    expect(new KeyedVerifier(randomBytes(32), 'backup-codes').digest('abcd2345', 'user-1')).not.toBe(d);
    expect(d).not.toContain(createHash('sha256').update('abcd2345').digest('hex'));
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new KeyedVerifier(randomBytes(16), 'x')).toThrow();
  });
});
