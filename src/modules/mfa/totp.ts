import { authenticator } from 'otplib';
import { randomBytes } from 'node:crypto';

/** RFC 6238: SHA-1, 6 digits, 30-second steps, one step of drift either way. */
export const totp = authenticator.clone({ window: 1, step: 30, digits: 6 });

export const STEP_SECONDS = 30;

/** The time step a code belongs to, or null when it is not valid now (±1 step). */
export function matchingStep(code: string, secret: string, now = Date.now()): number | null {
  const delta = totp.checkDelta(code, secret);
  if (delta === null) return null;
  return Math.floor(now / 1000 / STEP_SECONDS) + delta;
}

const BACKUP_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** `xxxx-xxxx` from an unambiguous alphabet: about 40 bits each, one use. */
export function newBackupCode(): string {
  const bytes = randomBytes(8);
  const chars = [...bytes].map((b) => BACKUP_ALPHABET[b % BACKUP_ALPHABET.length]);
  return `${chars.slice(0, 4).join('')}-${chars.slice(4).join('')}`;
}

export function normaliseBackupCode(code: string): string {
  return code
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}
