import { HttpException } from '@nestjs/common';
import { AppException } from './app.exception';
import { ErrorCode, codeForStatus } from './error-codes';
import { type ErrorEnvelope } from './envelope';

export interface MappedError {
  status: number;
  body: ErrorEnvelope;
  headers: Record<string, string>;
  /** True when the error is a bug or an outage worth logging with its stack. */
  unexpected: boolean;
}

const DB_UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);
const DB_UNAVAILABLE_TEXT =
  /(Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down)|terminating connection|Connection is not established|DataSource is not initialized|Query runner already released|connection provided by a query runner was already released)/i;
const DB_BAD_INPUT_CODES = new Set([
  '22P02',
  '22007',
  '22008',
  '22003',
  '22001',
  '22023',
  '2201W',
  '2201X',
  '22P05',
  '22021',
]);

function make(
  status: number,
  code: string,
  message: string,
  details?: unknown,
  unexpected = false,
  headers: Record<string, string> = {},
): MappedError {
  const error: ErrorEnvelope['error'] = { code, message };
  if (details !== undefined) error.details = details;
  return { status, body: { success: false, error }, headers, unexpected };
}

function isDatabaseUnavailable(err: Record<string, unknown>): boolean {
  const code = typeof err.code === 'string' ? err.code : undefined;
  if (code && (DB_UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  const driverError = err.driverError as Record<string, unknown> | undefined;
  if (driverError && driverError !== err && isDatabaseUnavailable(driverError)) return true;
  return typeof err.message === 'string' && DB_UNAVAILABLE_TEXT.test(err.message);
}

/** Maps anything thrown anywhere to the contract's error envelope; never leaks stacks, SQL or paths. */
export function mapError(exception: unknown): MappedError {
  if (exception instanceof AppException) {
    return make(
      exception.getStatus(),
      exception.code,
      exception.message,
      exception.details,
      false,
      exception.headers ?? {},
    );
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    let message = exception.message;
    if (typeof response === 'object' && response && 'message' in response) {
      const m = response.message;
      message = Array.isArray(m) ? m.join('; ') : String(m);
    }
    if (status === 404) message = 'Not found';
    return make(status, codeForStatus(status), message, undefined, status >= 500);
  }
  if (exception && typeof exception === 'object') {
    const err = exception as Record<string, unknown>;
    if (isDatabaseUnavailable(err))
      return make(
        503,
        'SERVICE_UNAVAILABLE',
        'The service is temporarily unavailable; try again shortly',
        undefined,
        true,
        { 'Retry-After': '5' },
      );
    const pgCode = typeof err.code === 'string' ? err.code : undefined;
    if (pgCode === '23505') return make(409, 'CONFLICT', 'A record with these values already exists');
    if (pgCode === '23503') return make(404, 'NOT_FOUND', 'A referenced record was not found');
    if (pgCode && DB_BAD_INPUT_CODES.has(pgCode))
      return make(400, 'VALIDATION_ERROR', 'A value is out of range or malformed');
    if (pgCode === '57014')
      return make(503, 'SERVICE_UNAVAILABLE', 'The request took too long; try again', undefined, true, {
        'Retry-After': '5',
      });
    // Errors raised by Fastify itself (body parsing, limits) carry an HTTP status.
    const statusCode = typeof err.statusCode === 'number' ? err.statusCode : undefined;
    if (statusCode && statusCode >= 400 && statusCode < 500) {
      const code = codeForStatus(statusCode);
      const message =
        statusCode === 413
          ? 'Request body is larger than 1 MiB'
          : statusCode === 415
            ? 'Unsupported content type; send application/json'
            : (typeof err.code === 'string' && err.code.includes('JSON')) || err instanceof SyntaxError
              ? 'Malformed JSON body'
              : typeof err.message === 'string' && !err.message.includes('/')
                ? err.message
                : 'Bad request';
      return make(statusCode, code, message);
    }
  }
  return make(ErrorCode.INTERNAL_ERROR, 'INTERNAL_ERROR', 'An unexpected error occurred', undefined, true);
}
