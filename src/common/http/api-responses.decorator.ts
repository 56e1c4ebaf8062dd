import { type Type, applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';

const ERROR_SCHEMA = {
  type: 'object',
  properties: {
    success: { type: 'boolean', example: false },
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', example: 'VALIDATION_ERROR' },
        message: { type: 'string' },
        details: { description: 'Per-field errors for VALIDATION_ERROR' },
      },
      required: ['code', 'message'],
    },
  },
  required: ['success', 'error'],
};

const DEFAULT_DESCRIPTIONS: Record<number, string> = {
  400: 'VALIDATION_ERROR: bad or unknown fields, malformed id, bad filter, sort, cursor or limit',
  401: 'UNAUTHENTICATED: missing, invalid or expired credentials',
  403: 'FORBIDDEN (role) or INSUFFICIENT_SCOPE (API key)',
  404: 'NOT_FOUND: no such record in your team',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE: body over 1 MiB',
  429: 'RATE_LIMIT: Retry-After says when to come back',
};

/**
 * The 429 of a route that asks for a password or a second factor (LockoutService): every lockout slot of the
 * account is held by answers still being checked, for longer than LOCKOUT_BUSY_WAIT_MS. Never a 423 for that.
 */
export function ApiLockoutBusyResponse(): MethodDecorator {
  return ApiResponse({
    status: 429,
    description:
      'AUTH_RATE_LIMIT with Retry-After: every lockout slot of the account is held by answers still being checked (the request waits up to LOCKOUT_BUSY_WAIT_MS for one first; never 423 for that)',
    schema: ERROR_SCHEMA,
  });
}

/** Error responses of a route, in the contract's envelope. `[status, description]` overrides the text. */
export function ApiErrorResponses(...entries: Array<number | [number, string]>): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...entries.map((entry) => {
      const [status, description] = Array.isArray(entry) ? entry : [entry, DEFAULT_DESCRIPTIONS[entry] ?? 'Error'];
      return ApiResponse({ status, description, schema: ERROR_SCHEMA });
    }),
  );
}

/** A success envelope around one `model`. */
export function ApiDataResponse(
  model: Type<unknown>,
  options: {
    status?: number;
    description?: string;
    isArray?: boolean;
    /** Response headers, e.g. `{ ETag: { description, schema: { type: 'string' } } }`. */
    headers?: Record<string, { description: string; schema: { type: 'string' | 'integer' } }>;
  } = {},
): MethodDecorator {
  const data = options.isArray
    ? { type: 'array', items: { $ref: getSchemaPath(model) } }
    : { $ref: getSchemaPath(model) };
  return applyDecorators(
    ApiExtraModels(model),
    ApiResponse({
      status: options.status ?? 200,
      description: options.description ?? 'OK',
      ...(options.headers ? { headers: options.headers } : {}),
      schema: {
        type: 'object',
        properties: { success: { type: 'boolean', example: true }, data },
        required: ['success', 'data'],
      },
    }),
  );
}

/** A success envelope around a page of `model` with its keyset meta. */
export function ApiPageResponse(
  model: Type<unknown>,
  description = 'One page, newest first unless `sort` says otherwise',
): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(model),
    ApiResponse({
      status: 200,
      description,
      schema: {
        type: 'object',
        properties: {
          success: { type: 'boolean', example: true },
          data: { type: 'array', items: { $ref: getSchemaPath(model) } },
          meta: {
            type: 'object',
            properties: {
              limit: { type: 'integer' },
              nextCursor: {
                type: 'string',
                nullable: true,
                description: 'Pass as `cursor` for the next page; null on the last page',
              },
              total: { type: 'integer', description: 'Only with includeTotal=true; capped (see the parameter)' },
            },
            required: ['limit'],
          },
        },
        required: ['success', 'data', 'meta'],
      },
    }),
  );
}
