import { createHmac, hkdfSync } from 'node:crypto';

/**
 * Stored verifiers of low-entropy secrets (backup codes: ~40 bits) as HMAC-SHA256 under a key derived from the
 * server's data key with HKDF, bound to the owner. A database dump alone then allows no offline search: the
 * key lives in the environment, not in the database.
 */
export class KeyedVerifier {
  private readonly key: Buffer;

  constructor(dataKey: Buffer, purpose: string) {
    if (dataKey.length !== 32) throw new Error('KeyedVerifier needs a 32-byte key');
    this.key = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), `hearth:${purpose}`, 32));
  }

  /** 64 hex characters (the width of the sha256 columns it replaces); another owner gives another verifier. */
  digest(secret: string, owner: string): string {
    return createHmac('sha256', this.key).update(owner).update('\0').update(secret).digest('hex');
  }
}
