import { createCipheriv, randomBytes } from 'node:crypto';
import { SealedValueError, SecretBox, keyCheck } from './secret-box';

/** A value in the format used before key ids (`v1:`), as stored by earlier releases. */
function sealV1(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
}

function failure(fn: () => unknown): SealedValueError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SealedValueError) return err;
    throw err;
  }
  throw new Error('expected a SealedValueError');
}

describe('SecretBox', () => {
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);
  const box = new SecretBox(keyA);

  it('round-trips under the current key id and never stores the plaintext', () => {
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'user-1');
    expect(sealed.startsWith(`v2:${keyCheck(keyA).slice(0, 8)}:`)).toBe(true);
    expect(box.isCurrent(sealed)).toBe(true);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(box.open(sealed, 'user-1')).toBe('JBSWY3DPEHPK3PXP');
    expect(box.seal('same', 'u')).not.toBe(box.seal('same', 'u'));
  });

  it('detects tampering, the wrong owner and the wrong key', () => {
    const sealed = box.seal('secret', 'user-1');
    const [v, id, payload] = sealed.split(':');
    const bytes = Buffer.from(payload ?? '', 'base64');
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
    expect(failure(() => box.open(`${v}:${id}:${bytes.toString('base64')}`, 'user-1')).reason).toBe('rejected');
    expect(failure(() => box.open(sealed, 'user-2')).reason).toBe('rejected');
    expect(failure(() => new SecretBox(keyB).open(sealed, 'user-1')).reason).toBe('unknown-key');
    expect(failure(() => box.open('v0:abc')).reason).toBe('format');
    expect(failure(() => box.open('v2:abc')).reason).toBe('format');
  });

  it('opens values of a previous key by their key id and seals only under the current one', () => {
    const old = box.seal('secret', 'user-1');
    const rotated = new SecretBox(keyB, [keyA]);
    expect(rotated.openWithCheck(old, 'user-1')).toEqual({ plaintext: 'secret', check: keyCheck(keyA) });
    expect(rotated.isCurrent(old)).toBe(false);
    const fresh = rotated.seal('secret', 'user-1');
    expect(rotated.isCurrent(fresh)).toBe(true);
    expect(failure(() => box.open(fresh, 'user-1')).reason).toBe('unknown-key');
    expect(new SecretBox(keyB).open(fresh, 'user-1')).toBe('secret');
    expect(rotated.checks).toEqual([keyCheck(keyB), keyCheck(keyA)]);
  });

  it('opens v1 values (no key id) with whichever configured key seals them, and nothing else', () => {
    const legacy = sealV1(keyA, 'seed', 'user-1');
    expect(box.open(legacy, 'user-1')).toBe('seed');
    expect(new SecretBox(keyB, [keyA]).openWithCheck(legacy, 'user-1').check).toBe(keyCheck(keyA));
    expect(failure(() => new SecretBox(keyB).open(legacy, 'user-1')).reason).toBe('unknown-key');
    expect(failure(() => box.open(legacy, 'user-2')).reason).toBe('unknown-key');
  });

  it('ignores a previous key repeated or equal to the current one, and refuses short keys', () => {
    expect(new SecretBox(keyA, [keyA, keyB, keyB]).checks).toEqual([keyCheck(keyA), keyCheck(keyB)]);
    expect(() => new SecretBox(keyA, [randomBytes(16)])).toThrow();
    expect(keyCheck(keyA)).toMatch(/^[0-9a-f]{64}$/);
    expect(keyCheck(keyA)).not.toBe(keyCheck(keyB));
  });
});
