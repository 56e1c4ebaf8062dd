import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';

const REFRESH_MS = 5_000;

/**
 * The IP blocklist lives in the database so every instance shares it; each instance keeps the active entries
 * in memory (refreshed every few seconds, updated at once for its own blocks) so the per-request check is a
 * Map lookup, not a query.
 */
@Injectable()
export class IpBlocklistService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(IpBlocklistService.name);
  private blocked = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS).unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    try {
      const rows: { ip: string; until: Date }[] = await this.dataSource.query(
        `SELECT ip, blocked_until AS until FROM ip_blocklist WHERE blocked_until > now()`,
      );
      this.blocked = new Map(rows.map((r) => [r.ip, r.until.getTime()]));
    } catch (err) {
      // Keep the last known list while the database is unreachable.
      this.logger.warn(`could not refresh the IP blocklist: ${(err as Error).message}`);
    }
  }

  isBlocked(ip: string, now = Date.now()): boolean {
    const until = this.blocked.get(ip);
    return until !== undefined && until > now;
  }

  async block(ip: string, reason: string): Promise<Date> {
    const until = new Date(Date.now() + this.config.honeypotBlockMs);
    await this.dataSource.query(
      `INSERT INTO ip_blocklist (ip, reason, blocked_until) VALUES ($1, $2, $3)
       ON CONFLICT (ip) DO UPDATE SET reason = EXCLUDED.reason, blocked_until = GREATEST(ip_blocklist.blocked_until, EXCLUDED.blocked_until)`,
      [ip, reason.slice(0, 200), until],
    );
    this.blocked.set(ip, until.getTime());
    return until;
  }
}
