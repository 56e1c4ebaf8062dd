import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable, from, mergeMap, of } from 'rxjs';
import { AppException } from '../../common/http/app.exception';
import { SHOWN_ONCE_SECRET, withoutShownOnceSecrets } from '../../common/http/shown-once-secret.decorator';
import { type Principal } from '../../common/security/principal';
import { type ClaimOutcome, IdempotencyService, type IdempotencyScope } from './idempotency.service';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'Idempotent-Replayed';
/** 1 to 255 printable ASCII characters (space included, as Stripe allows; Node trims the ends). */
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/** What the onSend hook must do for a request that carried a key. */
type RequestState =
  | {
      kind: 'claimed';
      scope: IdempotencyScope;
      claimId: string;
      settled: boolean;
      /** Fields of `data` kept as null (@ShownOnceSecret): a replay never shows such a secret again. */
      secretFields: readonly string[];
    }
  | { kind: 'replay'; statusCode: number; body: string; contentType: string | null; headers: Record<string, string> };

/** Answer headers that are part of the answer and replayed with it. */
const KEPT_HEADERS = ['etag', 'location'];

const STATE = new WeakMap<FastifyRequest, RequestState>();

/** Every POST under /v1 except /v1/auth/*, judged on the route as routed (not the URL's spelling). */
export function idempotencyApplies(method: string, route: string | undefined): boolean {
  return method === 'POST' && !!route && route.startsWith('/v1/') && !route.startsWith('/v1/auth/');
}

/** JSON with object keys sorted at every level: the same body however its keys were ordered. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of the body: raw bytes for a raw body (CSV import), canonical JSON otherwise. */
export function bodyDigest(body: unknown): string {
  if (body === undefined || body === null) return sha256('');
  if (Buffer.isBuffer(body)) return sha256(body);
  if (typeof body === 'string') return sha256(Buffer.from(body, 'utf8'));
  return sha256(canonicalJson(body));
}

/**
 * What "the same request" means: method, the matched route and its parameters (so `/v1/leads`,
 * `/v1/leads/` and `/v1/%6Ceads` are one request), the query (a dry-run import is not the real one) and
 * the body's digest.
 */
export function requestFingerprint(request: FastifyRequest): string {
  const route = request.routeOptions?.url ?? '';
  return sha256(
    [
      request.method,
      route,
      canonicalJson(request.params ?? {}),
      canonicalJson(request.query ?? {}),
      bodyDigest(request.body),
    ].join('\n'),
  );
}

function scopeOf(principal: Principal, key: string): IdempotencyScope {
  return principal.kind === 'user'
    ? { teamId: principal.teamId, credentialKind: 'user', credentialId: principal.userId, key }
    : { teamId: principal.teamId, credentialKind: 'api_key', credentialId: principal.apiKeyId, key };
}

/**
 * Idempotency-Key on POST routes. Runs after the guards (the caller is known, a refused caller claims
 * nothing) and around the pipes and the handler (a 400 from validation is a kept answer like any other 4xx).
 * The answer itself is stored, or the claim dropped, by `onSend` below: there every answer is final, whether
 * the handler returned or the exception filter wrote an error, and the row is written before the answer
 * leaves, so a client that got it and retries is replayed, never told "still in progress".
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly service: IdempotencyService,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!idempotencyApplies(request.method, request.routeOptions?.url)) return next.handle();
    const raw = request.headers[IDEMPOTENCY_HEADER];
    if (raw === undefined) return next.handle();
    if (typeof raw !== 'string' || !KEY_PATTERN.test(raw)) {
      throw AppException.validation('Invalid Idempotency-Key: send one value of 1 to 255 printable ASCII characters', [
        { field: 'Idempotency-Key', errors: ['must be 1 to 255 printable ASCII characters'] },
      ]);
    }
    // Routes without a team credential (public honeypots) have nothing to scope a key to.
    const principal = request.principal;
    if (!principal) return next.handle();
    const scope = scopeOf(principal, raw);
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    return from(this.service.claim(scope, requestFingerprint(request))).pipe(
      mergeMap((outcome: ClaimOutcome) => {
        switch (outcome.kind) {
          case 'claimed':
            STATE.set(request, {
              kind: 'claimed',
              scope,
              claimId: outcome.claimId,
              settled: false,
              secretFields: this.reflector.get<string[] | undefined>(SHOWN_ONCE_SECRET, context.getHandler()) ?? [],
            });
            return next.handle();
          case 'replay':
            STATE.set(request, outcome);
            void reply.status(outcome.statusCode);
            // The handler does not run; onSend swaps in the stored body.
            return of(null);
          default:
            throw new AppException(
              'IDEMPOTENCY_CONFLICT',
              outcome.reason === 'other-request'
                ? 'This Idempotency-Key was already used with another request (method, path or body)'
                : 'A request with this Idempotency-Key is still being processed; retry later',
            );
        }
      }),
    );
  }
}

/**
 * The Fastify `onSend` hook that finishes what the interceptor started: replays the stored answer, or stores
 * this answer (2xx-4xx, as sent, except that fields declared @ShownOnceSecret are stored as null), or drops the
 * claim (5xx, a streamed answer that cannot be stored, or one whose secret fields cannot be removed).
 */
export function idempotencyOnSend(service: IdempotencyService, logger: Logger) {
  return async (request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    const state = STATE.get(request);
    if (!state) return payload;
    if (state.kind === 'replay') {
      STATE.delete(request);
      void reply.code(state.statusCode);
      void reply.header('content-type', state.contentType ?? 'application/json; charset=utf-8');
      for (const [name, value] of Object.entries(state.headers)) void reply.header(name, value);
      void reply.header(REPLAYED_HEADER, 'true');
      return state.body;
    }
    if (state.settled) return payload;
    state.settled = true;
    // An empty answer (204) is kept as such; a streamed one cannot be stored, so its claim is dropped.
    const empty = payload === undefined || payload === null;
    const storable = empty || typeof payload === 'string' || Buffer.isBuffer(payload);
    const asSent = empty || !storable ? '' : Buffer.isBuffer(payload) ? payload.toString('utf8') : payload;
    // The secret goes to this caller only; what is kept (and replayed for 24 h) has the field null.
    const kept = state.secretFields.length && asSent ? withoutShownOnceSecrets(asSent, state.secretFields) : asSent;
    try {
      if (reply.statusCode >= 500 || !storable || kept === null) await service.release(state.scope, state.claimId);
      else {
        const contentType = reply.getHeader('content-type');
        const headers: Record<string, string> = {};
        for (const name of KEPT_HEADERS) {
          const value = reply.getHeader(name);
          if (typeof value === 'string') headers[name] = value;
        }
        await service.complete(state.scope, state.claimId, {
          statusCode: reply.statusCode,
          body: kept,
          contentType: typeof contentType === 'string' ? contentType : null,
          headers,
        });
      }
    } catch (err) {
      // The answer still goes out; the key stays "in progress" (409) until it expires. See README.
      logger.error(`could not settle Idempotency-Key claim: ${(err as Error).message}`);
    }
    return payload;
  };
}

/** The OpenAPI side: the optional header and its 409 on every POST under /v1 outside /v1/auth. */
export function documentIdempotencyKey(document: {
  paths: Record<string, Record<string, unknown>>;
  components?: { parameters?: Record<string, unknown> };
}): void {
  document.components ??= {};
  document.components.parameters ??= {};
  document.components.parameters.IdempotencyKey = {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description:
      'Makes a retry safe: 1 to 255 printable ASCII characters, kept IDEMPOTENCY_TTL_HOURS per team and credential. ' +
      'The same key with the same method, path, query and body replays the first answer (status and body, with ' +
      '`Idempotent-Replayed: true`) and the work happens once; another request on the key, or one still running, is ' +
      '409 IDEMPOTENCY_CONFLICT. 5xx answers are not kept. A replay of an answer that carried a secret shown once ' +
      '(an API key, a webhook signing secret) has that field `null`.',
    schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7E]+$' },
  };
  const conflict =
    'IDEMPOTENCY_CONFLICT: the Idempotency-Key was used for another request, or that one is still running';
  for (const [path, item] of Object.entries(document.paths)) {
    if (!idempotencyApplies('POST', path.replace(/\{(\w+)\}/g, ':$1'))) continue;
    const post = item.post as
      { parameters?: unknown[]; responses?: Record<string, { description?: string; content?: unknown }> } | undefined;
    if (!post) continue;
    post.parameters = [...(post.parameters ?? []), { $ref: '#/components/parameters/IdempotencyKey' }];
    const responses = (post.responses ??= {});
    const existing = responses['409'];
    if (existing) existing.description = `${existing.description ?? 'CONFLICT'}; or ${conflict}`;
    else {
      // The same envelope as every other error answer of the route.
      const anyError = Object.entries(responses).find(([status]) => status.startsWith('4'))?.[1];
      responses['409'] = { description: conflict, ...(anyError?.content ? { content: anyError.content } : {}) };
    }
  }
}
