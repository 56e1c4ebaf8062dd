import { AppException } from '../http/app.exception';

/**
 * Opaque keyset cursors: base64url of a small JSON object (the last row's sort key and id). Opaque to clients,
 * but never trusted: decodeCursor checks the shape and the caller checks each value before SQL sees it.
 */
export function encodeCursor(payload: Record<string, string | number | null>): string {
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

export function invalidCursor(): AppException {
  return AppException.validation('Invalid input: cursor is malformed or belongs to another query', [
    { field: 'cursor', errors: ['cursor is malformed or belongs to another query; start again without a cursor'] },
  ]);
}

export function decodeCursor(cursor: string): Record<string, unknown> {
  if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]{1,1400}$/.test(cursor)) throw invalidCursor();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalidCursor();
  return value as Record<string, unknown>;
}
