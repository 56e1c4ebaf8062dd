import { Global, Injectable, Module } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppException } from './app.exception';
import { mapError } from './error-mapping';

/**
 * Slow clients (API.md, Conventions): a request's head and body must arrive within REQUEST_TIMEOUT_MS (an
 * import's within IMPORT_TIMEOUT_MS), else `408 REQUEST_TIMEOUT` when an answer can still be sent, and the
 * connection is closed either way. Three layers:
 *
 * - Node's `headersTimeout` (REQUEST_TIMEOUT_MS) cuts a head that trickles in; Node's `requestTimeout`
 *   (IMPORT_TIMEOUT_MS, the longest any request may take to arrive) is the backstop for everything. Node
 *   checks both every `connectionsCheckingInterval`, so that is kept well below the timeouts.
 * - A deadline per request (`installRequestDeadlines`), started when its head has arrived: REQUEST_TIMEOUT_MS,
 *   or IMPORT_TIMEOUT_MS on the routes LongUploadRoutes names. Node's own limit is one per server, hence this.
 * - `keepAliveTimeout` closes idle keep-alive connections (longer than the proxy's upstream keep-alive, so
 *   the proxy never sends on a connection this side is closing).
 */
export interface RequestTimeouts {
  requestMs: number;
  importMs: number;
}

/** Idle keep-alive connections are closed after this (Fastify's default; Caddy's upstream keep-alive is 60 s). */
export const KEEP_ALIVE_TIMEOUT_MS = 72_000;

const REQUEST_TIMEOUT_MESSAGE = 'The request was not received in time; send it again';

/** The 408 envelope as raw HTTP, for the moments there is no Fastify reply to send it with. */
function rawTimeoutAnswer(): string {
  const body = JSON.stringify(mapError(new AppException('REQUEST_TIMEOUT', REQUEST_TIMEOUT_MESSAGE)).body);
  return (
    `HTTP/1.1 408 ${STATUS_CODES[408]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/**
 * Node's `clientError` (a head or request past Node's timeouts, a malformed or oversized head): the
 * contract's envelope instead of Fastify's default body, and the connection closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // Nothing may be written once an answer has started on this connection.
  const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (socket.writable && !started) {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') socket.write(rawTimeoutAnswer());
    else {
      const [status, code, message] =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'VALIDATION_ERROR', 'The request head is too large']
          : [400, 'VALIDATION_ERROR', 'Malformed HTTP request'];
      const body = JSON.stringify({ success: false, error: { code, message } });
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
  }
  socket.destroy();
}

/** The Fastify (and through it Node http.Server) options that set the timeouts above. */
export function serverTimeoutOptions(timeouts: RequestTimeouts) {
  return {
    requestTimeout: timeouts.importMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    http: {
      headersTimeout: timeouts.requestMs,
      requestTimeout: timeouts.importMs,
      // Node looks for expired requests this often (30 s by default: a 1 s timeout would fire up to 30 s late).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeouts.requestMs / 4))),
    },
    clientErrorHandler,
  };
}

/** The request still owes (part of) its body: an answer now leaves bytes unread on the connection. */
export function bodyPending(request: FastifyRequest): boolean {
  if (request.raw.complete) return false;
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** After an early answer, how long the rest of the body is read and dropped before the connection is cut. */
export const LINGER_MS = 1000;

/**
 * For an answer given before the body was read (refused from the head, or timed out): `Connection: close`, so
 * Node closes the connection once the answer is out instead of reading the rest of the body to reuse it. The
 * close lingers: the answer and a FIN go out at once, what the client still sends is read and dropped for up
 * to LINGER_MS (never buffered), then the socket is destroyed. Closing at once would make the kernel answer
 * the next incoming bytes with a reset, which can cost the client the answer it has not read yet.
 */
export function closeAfterAnswer(request: FastifyRequest, reply: FastifyReply): void {
  if (!bodyPending(request) || reply.raw.headersSent) return;
  void reply.header('connection', 'close');
  const socket = request.raw.socket as (Socket & { destroySoon?: () => void }) | null;
  if (!socket || socket.destroyed) return;
  // Node calls destroySoon() once an answer with `Connection: close` has been written.
  socket.destroySoon = function lingeringClose(this: Socket) {
    if (this.writable) this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
  };
}

/**
 * The routes whose bodies get IMPORT_TIMEOUT_MS instead of REQUEST_TIMEOUT_MS: each feature names its own
 * (the CRM import routes, from CrmImportService), the deadline hook asks.
 */
@Injectable()
export class LongUploadRoutes {
  private readonly tests: ((request: FastifyRequest) => boolean)[] = [];

  add(test: (request: FastifyRequest) => boolean): void {
    this.tests.push(test);
  }

  matches(request: FastifyRequest): boolean {
    return this.tests.some((test) => test(request));
  }
}

@Global()
@Module({ providers: [LongUploadRoutes], exports: [LongUploadRoutes] })
export class RequestTimeoutsModule {}

/**
 * The per-request deadline: from the head until the body has arrived. On expiry, 408 if the answer has not
 * started (the connection closed after it), else the connection is destroyed (an answer went out early and
 * the client is still trickling the body in).
 */
export function installRequestDeadlines(
  fastify: FastifyInstance,
  timeouts: RequestTimeouts,
  isLong: (request: FastifyRequest) => boolean,
): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.raw.complete) return done();
    const ms = isLong(request) ? timeouts.importMs : timeouts.requestMs;
    const timer = setTimeout(() => expire(request, reply), ms);
    timer.unref();
    const clear = () => clearTimeout(timer);
    request.raw.once('end', clear);
    request.raw.once('close', clear);
    reply.raw.once('close', clear);
    done();
  });
}

function expire(request: FastifyRequest, reply: FastifyReply): void {
  if (request.raw.complete) return;
  if (reply.sent || reply.raw.headersSent) {
    request.raw.socket?.destroy();
    return;
  }
  timedOut.add(request);
  closeAfterAnswer(request, reply);
  const mapped = mapError(new AppException('REQUEST_TIMEOUT', REQUEST_TIMEOUT_MESSAGE));
  void reply.code(mapped.status).header('content-type', 'application/json; charset=utf-8').send(mapped.body);
}

const timedOut = new WeakSet<FastifyRequest>();

/** The request was answered 408 by its deadline (a body reader still waiting on it should give up quietly). */
export function requestTimedOut(request: FastifyRequest): boolean {
  return timedOut.has(request);
}
