import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client, type ClientConfig, type Notification } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from './query-rows';

/** The Postgres channel every instance LISTENs on. */
export const CACHE_INVALIDATION_CHANNEL = 'hearth_cache';

/** How the dedicated listener connection reaches the database (same URL and TLS as the pool). */
export const CACHE_INVALIDATION_CONNECTION = Symbol('CACHE_INVALIDATION_CONNECTION');
export type CacheInvalidationConnection = Pick<ClientConfig, 'connectionString' | 'ssl'>;

/** What a cached entry is keyed by: an API key prefix, a session id, a user id, an IP address. */
export type CacheKind = 'apiKey' | 'session' | 'user' | 'ip';
const KINDS: readonly CacheKind[] = ['apiKey', 'session', 'user', 'ip'];

/**
 * Called with the id whose entries must go, or with `null`: drop EVERY entry of this kind (the listener was
 * reconnected, so notifications may have been missed).
 */
export type InvalidationHandler = (id: string | null) => void | Promise<void>;

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;
const HEARTBEAT_MS = 10_000;
/**
 * While the listener is down, a cached entry may be served only if it was read from the database, or the
 * listener was lost, less than this long ago: a revocation missed meanwhile then still takes effect within
 * the contract's second (with room for the query that follows).
 */
export const UNLISTENED_MAX_AGE_MS = 750;
const HEARTBEAT_TIMEOUT_MS = 5_000;

/**
 * Cache invalidation across instances over Postgres LISTEN/NOTIFY: instances share one database and nothing
 * else, so that is the bus. Each instance holds one dedicated connection (not from the pool) LISTENing on
 * `hearth_cache`; `publish` sends `{"kind","id"}` with pg_notify — on the caller's transaction when there is
 * one, so it is delivered on commit and never for a change that rolled back — and applies it locally at once.
 *
 * If the listener connection is lost it reconnects with backoff, then tells every subscriber to drop all its
 * entries (notifications may have been missed). While it is down, caches ask `servable` before using an entry:
 * only what is younger than UNLISTENED_MAX_AGE_MS (counted from the loss at the earliest) is served, so the
 * promise holds through a listener outage too. The per-instance TTLs stay as the safety net.
 */
@Injectable()
export class CacheInvalidation implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(CacheInvalidation.name);
  private readonly handlers = new Map<CacheKind, Set<InvalidationHandler>>();
  private client?: Client;
  private connected = false;
  /** When the listener was last lost (0: never connected yet; entries are then judged by their own age). */
  private lostAt = 0;
  private everConnected = false;
  private stopped = false;
  private attempt = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(CACHE_INVALIDATION_CONNECTION) private readonly connection: CacheInvalidationConnection,
  ) {}

  /** True while the listener is connected and LISTENing: cached entries may be served. */
  get listening(): boolean {
    return this.connected;
  }

  /**
   * May an entry read from the database at `fetchedAt` be served from memory now (its own TTL aside)? Always
   * while listening; otherwise only if it, or the loss of the listener, is recent enough that any revocation
   * it could have missed is less than a second old.
   */
  servable(fetchedAt: number, now = Date.now()): boolean {
    return this.connected || now - Math.max(fetchedAt, this.lostAt) < UNLISTENED_MAX_AGE_MS;
  }

  /** The backend pid of the listener connection (tests terminate it to exercise the reconnect). */
  get listenerPid(): number | undefined {
    return this.connected ? (this.client as unknown as { processID?: number } | undefined)?.processID : undefined;
  }

  async onModuleInit(): Promise<void> {
    // Awaited: an instance that answers requests is already listening.
    await this.connect();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.stopHeartbeat();
    this.connected = false;
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => undefined);
  }

  subscribe(kind: CacheKind, handler: InvalidationHandler): () => void {
    let set = this.handlers.get(kind);
    if (!set) this.handlers.set(kind, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  /**
   * Invalidates `kind`/`id` here at once and on every instance. With a manager inside a transaction the
   * notification rides on it (delivered at commit, dropped at rollback; a failure aborts that transaction like
   * any statement would); otherwise it goes through the pool and a failure is logged, not thrown — the change
   * is already committed and the TTLs still bound how long other instances may be wrong.
   */
  async publish(kind: CacheKind, id: string, manager?: EntityManager): Promise<void> {
    this.deliver(kind, id);
    const payload = JSON.stringify({ kind, id });
    const sql = `SELECT pg_notify($1, $2)`;
    if (manager?.queryRunner?.isTransactionActive) {
      await queryRows(manager, sql, [CACHE_INVALIDATION_CHANNEL, payload]);
      return;
    }
    try {
      await queryRows(this.dataSource.manager, sql, [CACHE_INVALIDATION_CHANNEL, payload]);
    } catch (err) {
      this.logger.warn(`could not publish a ${kind} invalidation: ${(err as Error).message}`);
    }
  }

  /** Runs the handlers of a kind (`id` null: drop all). Handler failures are logged, never thrown. */
  private deliver(kind: CacheKind, id: string | null): void {
    for (const handler of this.handlers.get(kind) ?? []) {
      try {
        const done = handler(id);
        if (done instanceof Promise)
          done.catch((err: Error) => this.logger.warn(`${kind} invalidation handler failed: ${err.message}`));
      } catch (err) {
        this.logger.warn(`${kind} invalidation handler failed: ${(err as Error).message}`);
      }
    }
  }

  private onNotification(msg: Notification): void {
    if (msg.channel !== CACHE_INVALIDATION_CHANNEL || !msg.payload) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(msg.payload);
    } catch {
      return;
    }
    const { kind, id } = (parsed ?? {}) as { kind?: unknown; id?: unknown };
    if (typeof id !== 'string' || !KINDS.includes(kind as CacheKind)) return;
    this.deliver(kind as CacheKind, id);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({
      ...this.connection,
      application_name: 'hearth-crm-cache-listener',
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
      query_timeout: HEARTBEAT_TIMEOUT_MS,
    });
    this.client = client;
    // Registered before connecting: an error with no listener would crash the process.
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    client.on('notification', (msg) => this.onNotification(msg));
    try {
      await client.connect();
      await client.query(`LISTEN ${CACHE_INVALIDATION_CHANNEL}`);
    } catch (err) {
      this.lost(client, err as Error);
      return;
    }
    if (this.stopped || this.client !== client) {
      await client.end().catch(() => undefined);
      return;
    }
    this.connected = true;
    this.attempt = 0;
    this.startHeartbeat(client);
    if (this.everConnected) {
      this.logger.log('cache invalidation listener reconnected; dropping every cached entry');
      for (const kind of KINDS) this.deliver(kind, null);
    }
    this.everConnected = true;
  }

  /** The listener connection failed or ended: forget it and reconnect with backoff (unless shutting down). */
  private lost(client: Client, err?: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (this.connected) this.lostAt = Date.now();
    this.connected = false;
    this.stopHeartbeat();
    client.removeAllListeners('notification');
    // Keep an 'error' listener: a late socket error must not become an uncaught exception.
    client.removeAllListeners('end');
    if (err) client.end().catch(() => undefined);
    if (this.stopped) return;
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.attempt++);
    this.logger.warn(
      `cache invalidation listener lost${err ? ` (${err.message})` : ''}; reconnecting in ${delay} ms (short-lived caching meanwhile)`,
    );
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }

  /** Finds a silently dead connection (no FIN, no error) sooner than TCP keepalive would. */
  private startHeartbeat(client: Client): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      client.query('SELECT 1').catch((err: Error) => this.lost(client, err));
    }, HEARTBEAT_MS);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }
}
