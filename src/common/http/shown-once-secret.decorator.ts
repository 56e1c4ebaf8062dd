import { SetMetadata } from '@nestjs/common';

export const SHOWN_ONCE_SECRET = 'http:shown-once-secret';

/**
 * Declares fields of a route's `data` that hold a secret shown once (an API key, a webhook's signing secret, a
 * SCIM token). Whatever keeps a copy of the answer must drop them: the Idempotency-Key store keeps the answer
 * with these fields set to `null`, so a replay never shows the secret again.
 */
export const ShownOnceSecret = (...fields: [string, ...string[]]): MethodDecorator =>
  SetMetadata(SHOWN_ONCE_SECRET, fields);

/**
 * The JSON answer with each named field of `data` set to null (the envelope `{success, data}`), or null when
 * the answer is not such JSON: then it cannot be vouched for and must not be kept.
 */
export function withoutShownOnceSecrets(body: string, fields: readonly string[]): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== 'object') return null;
  const data = (parsed as { data?: unknown }).data;
  // An error answer carries no data, hence no secret.
  if (data === undefined) return body;
  if (!data || typeof data !== 'object' || Array.isArray(data)) return null;
  for (const field of fields) if (field in data) (data as Record<string, unknown>)[field] = null;
  return JSON.stringify(parsed);
}
