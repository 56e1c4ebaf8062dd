import { HttpException } from '@nestjs/common';
import { ErrorCode, type ErrorCodeName } from './error-codes';

/** The one exception type services throw: a contract error code, a human message, optional details. */
export class AppException extends HttpException {
  constructor(
    readonly code: ErrorCodeName,
    message: string,
    readonly details?: unknown,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers?: Record<string, string>,
  ) {
    super({ code, message, details }, ErrorCode[code]);
  }

  static notFound(what = 'Resource'): AppException {
    return new AppException('NOT_FOUND', `${what} not found`);
  }

  static validation(message: string, details?: unknown): AppException {
    return new AppException('VALIDATION_ERROR', message, details);
  }

  static conflict(message: string): AppException {
    return new AppException('CONFLICT', message);
  }

  static forbidden(message = 'You do not have permission to perform this action'): AppException {
    return new AppException('FORBIDDEN', message);
  }

  static unauthenticated(message = 'Authentication required'): AppException {
    return new AppException('UNAUTHENTICATED', message);
  }
}
