import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** What the key check value is an HMAC of. Never a secret: the key is. */
const KEY_CHECK_LABEL = 'hearth:data-key-check:v1';
/** Hex characters of the key check that name the sealing key inside a `v2` value. */
const KEY_ID_CHARS = 8;

/**
 * The key check value of a data key: HMAC-SHA256 of a fixed label under it (64 hex characters). It names a
 * key without disclosing anything about it, so the database can record which key its sealed values use.
 */
export function keyCheck(key: Buffer): string {
  return createHmac('sha256', key).update(KEY_CHECK_LABEL).digest('hex');
}

/** Why a sealed value did not open. */
export type UnsealFailure = 'format' | 'unknown-key' | 'rejected';

export class SealedValueError extends Error {
  constructor(
    readonly reason: UnsealFailure,
    message: string,
  ) {
    super(message);
    this.name = 'SealedValueError';
  }
}

interface RingKey {
  key: Buffer;
  check: string;
  id: string;
}

/**
 * AES-256-GCM for small secrets at rest (TOTP seeds, webhook secrets, stored idempotent answers) under the
 * data key ring: the current key (`DATA_ENCRYPTION_KEY`) seals, it and the previous ones
 * (`DATA_ENCRYPTION_KEY_PREVIOUS`) open. `v2:<key id>:<base64 iv|tag|ciphertext>`, the key id being the first
 * characters of the sealing key's check value, so opening picks its key without trial decryption; a `v1:`
 * value (before key ids) is tried with each key, current first. The auth tag makes any change to the stored
 * value fail loudly instead of decrypting to garbage; the associated data binds a value to its owner, so a
 * ciphertext copied onto another row does not open.
 */
export class SecretBox {
  private readonly current: RingKey;
  private readonly ring: RingKey[];

  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    for (const key of [current, ...previous]) if (key.length !== 32) throw new Error('SecretBox needs 32-byte keys');
    const entry = (key: Buffer): RingKey => {
      const check = keyCheck(key);
      return { key, check, id: check.slice(0, KEY_ID_CHARS) };
    };
    this.current = entry(current);
    const seen = new Set([this.current.check]);
    this.ring = [this.current];
    for (const key of previous) {
      const e = entry(key);
      if (seen.has(e.check)) continue;
      seen.add(e.check);
      this.ring.push(e);
    }
  }

  /** The current key's check value. */
  get currentCheck(): string {
    return this.current.check;
  }

  /** Every configured key's check value, the current one first. */
  get checks(): string[] {
    return this.ring.map((k) => k.check);
  }

  /** The prefix every value sealed under the current key starts with (for SQL: `NOT LIKE prefix || '%'`). */
  get currentPrefix(): string {
    return `v2:${this.current.id}:`;
  }

  seal(plaintext: string, associatedData = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${this.currentPrefix}${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  open(sealed: string, associatedData = ''): string {
    return this.openWithCheck(sealed, associatedData).plaintext;
  }

  /** The plaintext and the check value of the key that opened it. Throws SealedValueError. */
  openWithCheck(sealed: string, associatedData = ''): { plaintext: string; check: string } {
    const parts = sealed.split(':');
    if (parts[0] === 'v2' && parts.length === 3 && parts[2]) {
      const key = this.ring.find((k) => k.id === parts[1]);
      if (!key)
        throw new SealedValueError(
          'unknown-key',
          `sealed with a key that is not configured (key id ${parts[1]}): neither DATA_ENCRYPTION_KEY nor DATA_ENCRYPTION_KEY_PREVIOUS`,
        );
      const plaintext = decrypt(key.key, parts[2], associatedData);
      if (plaintext === null)
        throw new SealedValueError(
          'rejected',
          'the value or its binding was changed: the authentication tag does not match',
        );
      return { plaintext, check: key.check };
    }
    if (parts[0] === 'v1' && parts.length === 2 && parts[1]) {
      for (const key of this.ring) {
        const plaintext = decrypt(key.key, parts[1], associatedData);
        if (plaintext !== null) return { plaintext, check: key.check };
      }
      throw new SealedValueError(
        'unknown-key',
        'opens with none of the configured keys (DATA_ENCRYPTION_KEY, DATA_ENCRYPTION_KEY_PREVIOUS), or was changed',
      );
    }
    throw new SealedValueError('format', 'not a sealed value');
  }

  /** Whether a sealed value already carries the current key's id (nothing for a rotation to do). */
  isCurrent(sealed: string): boolean {
    return sealed.startsWith(this.currentPrefix);
  }
}

function decrypt(key: Buffer, payload: string, associatedData: string): string | null {
  const raw = Buffer.from(payload, 'base64');
  if (raw.length < IV_BYTES + TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
