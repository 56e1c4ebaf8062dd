import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: any;
  /** Milliseconds from the connection to the answer's last byte. */
  atMs: number;
}

export interface RawUpload {
  /** The server's answer, once its head and Content-Length body have arrived (rejects if none came). */
  answer: Promise<RawAnswer>;
  /** Milliseconds from the connection to the socket's close (by either side). */
  closed: Promise<number>;
  /** Body bytes written so far (handed to the kernel: the server may not have read them). */
  sentBytes(): number;
  /** Write more of the body by hand. */
  write(data: string | Buffer): void;
  destroy(): void;
}

export interface RawUploadOptions {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** The Content-Length announced in the head. */
  contentLength: number;
  /** Body bytes written right after the head. */
  initial?: string | Buffer;
  /**
   * Keep writing the rest of the announced body, 64 KiB at a time, as fast as the server takes it (waiting
   * for 'drain', so this side never buffers more than one chunk), until it is all sent or the connection ends.
   */
  pump?: boolean;
  /** Send the head in pieces: only this many bytes of it (a client that stalls in its head). */
  headBytes?: number;
}

const PUMP_CHUNK = Buffer.alloc(64 * 1024, 'a');

/**
 * One HTTP/1.1 request written byte for byte on a socket, as an attacker would: a head announcing a body
 * (Content-Length), and as much or as little of that body as the test wants.
 */
export function rawUpload(baseUrl: string, options: RawUploadOptions): RawUpload {
  const { port, hostname } = new URL(baseUrl);
  const started = Date.now();
  const extra = Object.entries(options.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const head = Buffer.from(
    `${options.method ?? 'POST'} ${options.path} HTTP/1.1\r\nHost: localhost\r\n${extra}` +
      `Content-Length: ${options.contentLength}\r\n\r\n`,
  );
  let sent = 0;
  let ended = false;
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined); // EPIPE / ECONNRESET once the server has closed: expected here

  let received = Buffer.alloc(0);
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    const tryParse = (): boolean => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const [statusLine, ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      if (received.length < end + 4 + length) return false;
      const text = received.subarray(end + 4, end + 4 + length).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: kept as text
      }
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body, atMs: Date.now() - started });
      return true;
    };
    let done = false;
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (!done) done = tryParse();
    });
    socket.on('close', () => {
      if (!done) reject(new Error(`connection closed without a complete answer: ${received.toString('latin1')}`));
    });
  });
  answer.catch(() => undefined);
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - started)));
  socket.on('close', () => (ended = true));

  const pump = () => {
    while (!ended && sent < options.contentLength) {
      const chunk = PUMP_CHUNK.subarray(0, Math.min(PUMP_CHUNK.length, options.contentLength - sent));
      sent += chunk.length;
      if (!socket.write(chunk)) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  socket.on('connect', () => {
    socket.write(options.headBytes === undefined ? head : head.subarray(0, options.headBytes));
    if (options.headBytes !== undefined) return;
    if (options.initial !== undefined) {
      const initial = Buffer.from(options.initial);
      sent += initial.length;
      socket.write(initial);
    }
    if (options.pump) pump();
  });

  return {
    answer,
    closed,
    sentBytes: () => sent,
    write: (data) => {
      const bytes = Buffer.from(data);
      sent += bytes.length;
      socket.write(bytes);
    },
    destroy: () => socket.destroy(),
  };
}
