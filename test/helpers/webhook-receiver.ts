import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
  path: string;
  at: number;
}

/**
 * WEBHOOK_ALLOWED_PORTS for tests whose receivers listen on an ephemeral port: the port rule stays on (a
 * private-target test app does not skip it), with the ports a local receiver gets added.
 */
export const LOCAL_RECEIVER_PORTS = '80,443,8080,8443,1024-65535';

/** A local HTTP receiver recording every request; `respond` picks each answer's status (default 200). */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  respond: (req: ReceivedWebhook, index: number) => number | Promise<number> = () => 200;
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown = undefined;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const hit: ReceivedWebhook = { headers: req.headers, body, json, path: req.url ?? '/', at: Date.now() };
        this.received.push(hit);
        void Promise.resolve(this.respond(hit, this.received.length - 1)).then((status) => {
          res.writeHead(status, { 'content-type': 'text/plain' });
          res.end(status >= 300 ? `receiver says ${status}` : 'ok');
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${address.port}`;
    return this;
  }

  /** Requests whose body type is `type` (and that match `where`). */
  of(type: string, where: (hit: ReceivedWebhook) => boolean = () => true): ReceivedWebhook[] {
    return this.received.filter((h) => h.json?.type === type && where(h));
  }

  /** Resolves once `count` requests match, or fails after `timeoutMs`. */
  async waitFor(
    predicate: (hit: ReceivedWebhook) => boolean,
    count = 1,
    timeoutMs = 15_000,
  ): Promise<ReceivedWebhook[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hits = this.received.filter(predicate);
      if (hits.length >= count) return hits;
      if (Date.now() > deadline)
        throw new Error(`receiver: ${hits.length}/${count} matching requests after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Polls `read` until `done(value)` holds (for database state the dispatcher writes). */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met after ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
