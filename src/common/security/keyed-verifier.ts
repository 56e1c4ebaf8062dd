import { createHmac, hkdfSync } from 'node:crypto';

/**
 * Stored verifiers of low-entropy secrets (backup codes: ~40 bits) as HMAC-SHA256 under a server key, bound to
 * the owner. A database dump alone then allows no offline search: the key is not in the database in clear.
 *
 * The HMAC key of a purpose is stable across data key rotations (a keyed hash cannot be re-sealed, and
 * re-hashing needs the secret, which only its owner has): DataKeys keeps it in `data_verifier_keys`, sealed
 * under the data key like every other secret at rest, so a rotation re-seals the key and every stored digest
 * stays valid. See docs/data-keys.md.
 */
export class KeyedVerifier {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('KeyedVerifier needs a 32-byte key');
  }

  /**
   * The HMAC key a purpose had before verifier keys were stored: HKDF of the data key. The stored key of a
   * purpose whose digests predate it starts as this, so those digests keep verifying.
   */
  static keyFromDataKey(dataKey: Buffer, purpose: string): Buffer {
    if (dataKey.length !== 32) throw new Error('KeyedVerifier needs a 32-byte key');
    return Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), `hearth:${purpose}`, 32));
  }

  /** 64 hex characters (the width of the sha256 columns it replaces); another owner gives another verifier. */
  digest(secret: string, owner: string): string {
    return createHmac('sha256', this.key).update(owner).update('\0').update(secret).digest('hex');
  }
}
