import { createHash, randomBytes } from 'node:crypto';
import { KeyedVerifier } from './keyed-verifier';

describe('KeyedVerifier', () => {
  const dataKey = randomBytes(32);
  const verifier = new KeyedVerifier(KeyedVerifier.keyFromDataKey(dataKey, 'backup-codes'));

  it('is deterministic for one key, purpose and owner', () => {
    expect(verifier.digest('abcd2345', 'user-1')).toBe(
      new KeyedVerifier(KeyedVerifier.keyFromDataKey(dataKey, 'backup-codes')).digest('abcd2345', 'user-1'),
    );
    expect(verifier.digest('abcd2345', 'user-1')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs by owner, purpose and key, and is not the plain sha256 a dump could be searched against', () => {
    const d = verifier.digest('abcd2345', 'user-1');
    expect(verifier.digest('abcd2345', 'user-2')).not.toBe(d);
    expect(new KeyedVerifier(KeyedVerifier.keyFromDataKey(dataKey, 'other')).digest('abcd2345', 'user-1')).not.toBe(d);
    expect(new KeyedVerifier(randomBytes(32)).digest('abcd2345', 'user-1')).not.toBe(d);
    expect(d).not.toContain(createHash('sha256').update('abcd2345').digest('hex'));
  });

  it('derives the legacy key exactly as before stored verifier keys (HKDF-SHA256, info hearth:<purpose>)', () => {
    const key = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
    // Computed by the HKDF derivation that hashed backup codes before verifier keys were stored.
    expect(KeyedVerifier.keyFromDataKey(key, 'backup-codes').toString('hex')).toBe(
      '03fe92258f481a4fc2a4ccc87d78c7c259c92653098b61af1837c89b306bf984',
    );
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new KeyedVerifier(randomBytes(16))).toThrow();
    expect(() => KeyedVerifier.keyFromDataKey(randomBytes(16), 'x')).toThrow();
  });
});
