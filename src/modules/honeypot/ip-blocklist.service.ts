import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { CacheInvalidation } from '../../database/cache-invalidation';
import { queryRows } from '../../database/query-rows';

/** Full reload period: the safety net behind the invalidation notifications. */
const REFRESH_MS = 5_000;
/** Reload period while the invalidation listener is down (notifications are not arriving): within 1 s. */
const UNLISTENED_REFRESH_MS = 500;
const TICK_MS = 250;

/**
 * The IP blocklist lives in the database so every instance shares it; each instance keeps the active entries
 * in memory so the per-request check is a Map lookup, not a query. A block is applied here at once and
 * announced to every instance ('ip' through CacheInvalidation), which reads that IP's entry; the whole list is
 * also reloaded every few seconds (twice a second while the listener is down).
 */
@Injectable()
export class IpBlocklistService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(IpBlocklistService.name);
  private blocked = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private lastRefresh = 0;
  private failing = false;
  /** Bumped by every per-IP update: a full reload that raced one does not overwrite it with an older list. */
  private epoch = 0;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly invalidation: CacheInvalidation,
  ) {
    invalidation.subscribe('ip', (ip) => (ip === null ? this.refresh() : this.reload(ip)));
  }

  async onModuleInit(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      const due = this.invalidation.listening ? REFRESH_MS : UNLISTENED_REFRESH_MS;
      if (Date.now() - this.lastRefresh >= due) void this.refresh();
    }, TICK_MS).unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    this.lastRefresh = Date.now();
    const epoch = this.epoch;
    try {
      const rows = await queryRows<{ ip: string; until: Date }>(
        this.dataSource.manager,
        `SELECT ip, blocked_until AS until FROM ip_blocklist WHERE blocked_until > now()`,
      );
      const fresh = new Map(rows.map((r) => [r.ip, r.until.getTime()]));
      // A per-IP update landed meanwhile: keep what it set, on top of the reloaded list.
      if (epoch !== this.epoch)
        for (const [ip, until] of this.blocked) fresh.set(ip, Math.max(until, fresh.get(ip) ?? 0));
      this.blocked = fresh;
      if (this.failing) this.logger.log('the IP blocklist refreshes again');
      this.failing = false;
    } catch (err) {
      // Keep the last known list while the database is unreachable (logged once per outage: this retries often).
      if (!this.failing) this.logger.warn(`could not refresh the IP blocklist: ${(err as Error).message}`);
      this.failing = true;
    }
  }

  /** One IP's entry, after another instance announced a change to it. */
  private async reload(ip: string): Promise<void> {
    const rows = await queryRows<{ until: Date }>(
      this.dataSource.manager,
      `SELECT blocked_until AS until FROM ip_blocklist WHERE ip = $1 AND blocked_until > now()`,
      [ip],
    );
    this.epoch++;
    if (rows[0]) this.blocked.set(ip, Math.max(rows[0].until.getTime(), this.blocked.get(ip) ?? 0));
    else this.blocked.delete(ip);
  }

  isBlocked(ip: string, now = Date.now()): boolean {
    const until = this.blocked.get(ip);
    return until !== undefined && until > now;
  }

  async block(ip: string, reason: string): Promise<Date> {
    const until = new Date(Date.now() + this.config.honeypotBlockMs);
    await queryRows(
      this.dataSource.manager,
      `INSERT INTO ip_blocklist (ip, reason, blocked_until) VALUES ($1, $2, $3)
       ON CONFLICT (ip) DO UPDATE SET reason = EXCLUDED.reason, blocked_until = GREATEST(ip_blocklist.blocked_until, EXCLUDED.blocked_until)`,
      [ip, reason.slice(0, 200), until],
    );
    this.epoch++;
    this.blocked.set(ip, Math.max(until.getTime(), this.blocked.get(ip) ?? 0));
    // Every other instance reads this IP's entry now, not at its next reload.
    await this.invalidation.publish('ip', ip);
    return until;
  }
}
