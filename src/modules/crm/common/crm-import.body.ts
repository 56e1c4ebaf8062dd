import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppException } from '../../../common/http/app.exception';
import { closeAfterAnswer, requestTimedOut } from '../../../common/http/request-timeouts';

/** Seconds a client is told to wait (Retry-After) when its team already has an import running. */
export const IMPORT_RETRY_AFTER_SECONDS = 5;

/** POST /v1/<resource>/import, judged on the route as routed (its pattern), never on the URL's spelling. */
export function isImportRoute(request: FastifyRequest): boolean {
  return request.method === 'POST' && (request.routeOptions?.url ?? '').endsWith('/import');
}

export function importAlreadyRunning(): AppException {
  return new AppException(
    'RATE_LIMIT',
    'An import of your team is already running; send this one when it has finished',
    undefined,
    { 'Retry-After': String(IMPORT_RETRY_AFTER_SECONDS) },
  );
}

/**
 * The teams with an import under way in this process, claimed before the body is read: a second upload of
 * the same team is 429 without a byte of it buffered. (Across instances the import's transaction takes a
 * Postgres advisory lock: CrmImportService.)
 */
export class ImportSlots {
  private readonly busy = new Set<string>();

  tryClaim(teamId: string): boolean {
    if (this.busy.has(teamId)) return false;
    this.busy.add(teamId);
    return true;
  }

  release(teamId: string): void {
    this.busy.delete(teamId);
  }
}

/**
 * The import routes' body handling, after RequestGate has admitted the caller from the head:
 * - a `preParsing` hook claims the team's import slot (429 RATE_LIMIT with Retry-After, body unread, when its
 *   team is already importing), released when the answer is done;
 * - `text/csv` bodies are read into ONE Buffer of at most `maxBytes` (413 past it, in the envelope): sized
 *   from Content-Length when the client sends one, so no second copy is made at the end. The raw bytes are
 *   kept as sent: the Idempotency-Key fingerprint hashes them, and the import parses them in slices.
 * On any other route a CSV body stays what it was before: 415.
 */
export function registerCsvBodyParser(fastify: FastifyInstance, maxBytes: number, slots: ImportSlots): void {
  fastify.addHook('preParsing', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isImportRoute(request)) return;
    const teamId = request.principal?.teamId;
    // Without a team the route's own guard refuses the request (RequestGate decided it already).
    if (!teamId) return;
    if (!slots.tryClaim(teamId)) {
      closeAfterAnswer(request, reply);
      throw importAlreadyRunning();
    }
    reply.raw.once('close', () => slots.release(teamId));
  });

  const tooLarge = () =>
    new AppException(
      'PAYLOAD_TOO_LARGE',
      `The CSV body is larger than ${maxBytes} bytes (IMPORT_MAX_BYTES); split it into several imports`,
    );
  fastify.addContentTypeParser('text/csv', (request, payload, done) => {
    if (!isImportRoute(request)) {
      payload.resume();
      done(new AppException('UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type; send application/json'), undefined);
      return;
    }
    const declared = Number(request.headers['content-length']);
    const sized = Number.isInteger(declared) && declared >= 0;
    if (sized && declared > maxBytes) {
      // Drained, not read: the client may finish sending and still read the answer.
      payload.resume();
      done(tooLarge(), undefined);
      return;
    }
    // With Content-Length, one buffer of that size filled in place; chunked, the chunks joined at the end.
    const body = sized ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const finish = (err: Error | null, result?: Buffer) => {
      if (finished) return;
      finished = true;
      payload.removeListener('data', onData);
      // Answered 408 by the request's deadline already: nothing left to say.
      if (requestTimedOut(request)) return;
      done(err, result);
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > maxBytes || (body && size + chunk.length > body.length)) {
        chunks.length = 0;
        payload.resume();
        finish(tooLarge());
        return;
      }
      if (body) chunk.copy(body, size);
      else chunks.push(chunk);
      size += chunk.length;
    };
    payload.on('data', onData);
    payload.once('end', () => finish(null, body ? body.subarray(0, size) : Buffer.concat(chunks, size)));
    payload.once('error', (err) => finish(err));
  });
}
