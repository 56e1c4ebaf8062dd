import { createHmac } from 'node:crypto';
import { STATUS_CODES, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type LookupFunction } from 'node:net';
import { type PinnedTarget, type Resolver, type TargetPolicy, TargetRefused, vetTarget } from './ssrf-guard';

export interface SignedMessage {
  /** The event id: the same on every attempt, so receivers can drop duplicates. */
  id: string;
  body: string;
}

export interface SendResult {
  ok: boolean;
  statusCode: number | null;
  /** Why it failed (the status line, never the answer's body or headers), or null on success. */
  error: string | null;
  /** The attempt was cut short by shutdown (not the receiver's fault: it does not count). */
  aborted?: boolean;
}

/** The base64 secret bytes of `whsec_<base64>`. */
export function secretBytes(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
}

/** Standard Webhooks signature: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. */
export function signature(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secretBytes(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** A lookup that answers with the vetted address only: no second DNS query between check and connect. */
function pinnedLookup(target: PinnedTarget): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  }) as unknown as LookupFunction;
}

/**
 * What lastError keeps of an answer: `HTTP <status> <standard reason phrase>`. Nothing the receiver wrote (body,
 * reason phrase, Location): whatever sits behind the URL, an admin must not read it through the delivery log.
 */
export function statusLine(status: number): string {
  const reason = STATUS_CODES[status];
  const line = reason ? `HTTP ${status} ${reason}` : `HTTP ${status}`;
  return status >= 300 && status < 400 ? `${line} (redirect not followed)` : line;
}

/**
 * One delivery attempt: vet the URL (port allowed, DNS resolved now, every address public unless allowed),
 * connect to that very address, POST the signed body, keep the answer's status only. Redirects are not followed
 * (a 3xx is a failure). The whole attempt, DNS included, ends within `timeoutMs`.
 */
export async function sendSigned(
  rawUrl: string,
  secret: string,
  message: SignedMessage,
  options: { policy: TargetPolicy; timeoutMs: number; signal?: AbortSignal; resolve?: Resolver },
): Promise<SendResult> {
  // One controller for the attempt: the deadline or shutdown aborts it (listeners removed when it ends).
  const attempt = new AbortController();
  const signal = attempt.signal;
  const timer = setTimeout(() => attempt.abort(new Error('timed out')), options.timeoutMs);
  const onShutdown = () => attempt.abort(new Error('shutting down'));
  options.signal?.addEventListener('abort', onShutdown, { once: true });
  if (options.signal?.aborted) onShutdown();
  try {
    return await attemptWithin(rawUrl, secret, message, options, signal);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onShutdown);
  }
}

async function attemptWithin(
  rawUrl: string,
  secret: string,
  message: SignedMessage,
  options: { policy: TargetPolicy; timeoutMs: number; signal?: AbortSignal; resolve?: Resolver },
  signal: AbortSignal,
): Promise<SendResult> {
  let target: PinnedTarget;
  try {
    target = await new Promise<PinnedTarget>((resolve, reject) => {
      if (signal.aborted) return reject(new Error('timed out resolving the host'));
      const onAbort = () => reject(new Error('timed out resolving the host'));
      signal.addEventListener('abort', onAbort, { once: true });
      vetTarget(rawUrl, options.policy, options.resolve)
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', onAbort));
    });
  } catch (err) {
    if (options.signal?.aborted) return { ok: false, statusCode: null, error: 'shutting down', aborted: true };
    const reason = err instanceof TargetRefused ? `refused: ${err.message}` : (err as Error).message;
    return { ok: false, statusCode: null, error: reason };
  }
  const timestamp = Math.floor(Date.now() / 1000);
  const body = Buffer.from(message.body, 'utf8');
  const request = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const req = request(
      target.url,
      {
        method: 'POST',
        lookup: pinnedLookup(target),
        agent: false,
        signal,
        headers: {
          'content-type': 'application/json',
          'content-length': String(body.length),
          'user-agent': 'HearthCRM-Webhooks/1',
          'webhook-id': message.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signature(secret, message.id, timestamp, message.body),
        },
      },
      (res: IncomingMessage) => {
        // The status decides; the body is not read (not even in part) and the connection is dropped.
        const status = res.statusCode ?? 0;
        res.destroy();
        if (status >= 200 && status < 300) finish({ ok: true, statusCode: status, error: null });
        else finish({ ok: false, statusCode: status, error: statusLine(status) });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (options.signal?.aborted)
        return finish({ ok: false, statusCode: null, error: 'shutting down', aborted: true });
      const reason = signal.aborted ? `no answer within ${options.timeoutMs} ms` : (err.code ?? err.message);
      finish({ ok: false, statusCode: null, error: reason });
    });
    req.end(body);
  });
}
