import { AppException } from '../../../common/http/app.exception';

const IF_MATCH = /^(?:W\/)?"([1-9]\d{0,9})"$|^([1-9]\d{0,9})$/;

/**
 * The version an `If-Match` header names: `"3"`, `3` or `W/"3"` (our ETags are versions, so weak and strong
 * compare alike). Absent means "no precondition"; anything else (a list, `*`, garbage) is 400, so a client that
 * meant to guard a write never silently overwrites.
 */
export function parseIfMatch(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(',') : header;
  const match = IF_MATCH.exec(text.trim());
  const version = match ? Number(match[1] ?? match[2]) : NaN;
  if (!Number.isSafeInteger(version) || version > 2_147_483_647)
    throw AppException.validation('Invalid input: If-Match must be a version ETag such as "3"', [
      { field: 'If-Match', errors: ['must be "<version>", <version> or W/"<version>"'] },
    ]);
  return version;
}

/** The ETag of a record version. */
export const etagOf = (version: unknown): string => `"${String(version)}"`;
