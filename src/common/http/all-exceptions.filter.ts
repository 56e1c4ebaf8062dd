import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { mapError } from './error-mapping';
import { reportError } from '../observability/error-tracking';

/** The single place where errors become responses. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    sendError(reply, request, exception, this.logger);
  }
}

export function sendError(
  reply: FastifyReply,
  request: FastifyRequest | undefined,
  exception: unknown,
  logger: Pick<Logger, 'error' | 'warn'>,
): void {
  const mapped = mapError(exception);
  if (mapped.unexpected) {
    const err = exception instanceof Error ? exception : new Error(String(exception));
    const where = request ? `${request.method} ${request.url.split('?')[0]}` : '';
    if (mapped.status >= 500 && mapped.status !== 503) {
      logger.error(`${where} failed: ${err.message}`, err.stack);
      reportError(err);
    } else logger.warn(`${where} ${mapped.body.error.code}: ${err.message}`);
  }
  if (reply.sent) return;
  for (const [name, value] of Object.entries(mapped.headers)) reply.header(name, value);
  reply.status(mapped.status).header('content-type', 'application/json; charset=utf-8').send(mapped.body);
}
