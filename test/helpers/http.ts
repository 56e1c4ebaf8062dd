export interface HttpResponse<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
  /** Set-Cookie values, name → full header. */
  cookies: Record<string, string>;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as-is (malformed JSON tests). */
  rawBody?: string | Buffer;
  token?: string;
  apiKey?: string;
  cookie?: string;
  headers?: Record<string, string>;
}

/** A small fetch wrapper for e2e tests: JSON in and out, with the envelope left intact. */
export class HttpClient {
  constructor(readonly baseUrl: string) {}

  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    let body: string | Buffer | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
      headers['content-type'] ??= 'application/json';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.apiKey) headers['x-api-key'] = options.apiKey;
    if (options.cookie) headers.cookie = options.cookie;
    const res = await fetch(this.baseUrl + path, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    const cookies: Record<string, string> = {};
    for (const c of res.headers.getSetCookie()) cookies[c.split('=')[0]!] = c;
    return { status: res.status, body: parsed as T, text, headers: res.headers, cookies };
  }

  get<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, options);
  }
  post<T = any>(path: string, body?: unknown, options: RequestOptions = {}) {
    return this.request<T>('POST', path, { ...options, body });
  }
  patch<T = any>(path: string, body?: unknown, options: RequestOptions = {}) {
    return this.request<T>('PATCH', path, { ...options, body });
  }
  delete<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('DELETE', path, options);
  }
}

/**
 * No response may carry a stack trace, a server path or a database error. (Data a client stored, even if it
 * looks like SQL, is echoed back as data; what must never appear is the server's own internals.)
 */
export function expectNoLeak(text: string): void {
  expect(text).not.toMatch(
    /\n\s+at [\w.<>$]+ \(|node_modules|\/work\/|\/src\/[\w/-]+\.[jt]s|QueryFailedError|syntax error at or near|violates (unique|foreign key|check|not-null) constraint|column "[^"]*" (does not exist|of relation)|relation "[^"]*" does not exist|"stack"\s*:/i,
  );
}
