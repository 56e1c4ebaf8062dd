import { HttpStatus } from '@nestjs/common';

/** The error codes of the HTTP contract (API.md), with their status. Clients depend on these names. */
export const ErrorCode = {
  VALIDATION_ERROR: HttpStatus.BAD_REQUEST,
  UNAUTHENTICATED: HttpStatus.UNAUTHORIZED,
  INVALID_CREDENTIALS: HttpStatus.UNAUTHORIZED,
  MFA_REQUIRED: HttpStatus.UNAUTHORIZED,
  INVALID_MFA_CODE: HttpStatus.UNAUTHORIZED,
  INVALID_REFRESH_TOKEN: HttpStatus.UNAUTHORIZED,
  TOKEN_REUSE_DETECTED: HttpStatus.UNAUTHORIZED,
  API_KEY_EXPIRED: HttpStatus.UNAUTHORIZED,
  REAUTH_REQUIRED: HttpStatus.UNAUTHORIZED,
  FORBIDDEN: HttpStatus.FORBIDDEN,
  INSUFFICIENT_SCOPE: HttpStatus.FORBIDDEN,
  IP_NOT_ALLOWED: HttpStatus.FORBIDDEN,
  IP_BLOCKED: HttpStatus.FORBIDDEN,
  MFA_ENROLLMENT_REQUIRED: HttpStatus.FORBIDDEN,
  NOT_FOUND: HttpStatus.NOT_FOUND,
  METHOD_NOT_ALLOWED: HttpStatus.METHOD_NOT_ALLOWED,
  CONFLICT: HttpStatus.CONFLICT,
  PRECONDITION_FAILED: HttpStatus.PRECONDITION_FAILED,
  IDEMPOTENCY_CONFLICT: HttpStatus.CONFLICT,
  REQUEST_TIMEOUT: HttpStatus.REQUEST_TIMEOUT,
  PAYLOAD_TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
  UNSUPPORTED_MEDIA_TYPE: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  ACCOUNT_LOCKED: 423,
  RATE_LIMIT: HttpStatus.TOO_MANY_REQUESTS,
  AUTH_RATE_LIMIT: HttpStatus.TOO_MANY_REQUESTS,
  INTERNAL_ERROR: HttpStatus.INTERNAL_SERVER_ERROR,
  /** A stored secret no configured data key opens (the log names its table and row). */
  DATA_KEY_MISMATCH: HttpStatus.INTERNAL_SERVER_ERROR,
  SERVICE_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;

/** Default code for a bare HTTP status (framework errors, unknown routes). */
export function codeForStatus(status: number): ErrorCodeName {
  switch (status) {
    case 400:
      return 'VALIDATION_ERROR';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 408:
      return 'REQUEST_TIMEOUT';
    case 409:
      return 'CONFLICT';
    case 412:
      return 'PRECONDITION_FAILED';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 423:
      return 'ACCOUNT_LOCKED';
    case 429:
      return 'RATE_LIMIT';
    case 503:
      return 'SERVICE_UNAVAILABLE';
    default:
      return status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_ERROR';
  }
}
