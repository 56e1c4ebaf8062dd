import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { queryRows } from '../../database/query-rows';
import { SecurityEventsService } from '../security-events/security-events.service';

const FLUSH_MS = 30_000;
/** A minute is a spike when it has more than this many requests and this many times the key's average. */
const SPIKE_MIN_REQUESTS = 100;
const SPIKE_FACTOR = 10;

interface KeyMinute {
  minute: number;
  count: number;
  /** Exponential moving average of requests per minute over earlier minutes. */
  average: number;
  reported: boolean;
}

/**
 * Per-key usage kept in memory: lastUsedAt is flushed in one UPDATE every 30 s (and at shutdown) instead of a
 * write per request, and a minute far above the key's norm writes one `api_key_usage_spike` event.
 */
@Injectable()
export class ApiKeyUsage implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ApiKeyUsage.name);
  private readonly pending = new Map<string, Date>();
  private readonly minutes = new Map<string, KeyMinute>();
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: SecurityEventsService,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  lastUsed(keyId: string): Date | undefined {
    return this.pending.get(keyId);
  }

  recordUse(keyId: string, teamId: string, ip: string, userAgent: string | null, now = Date.now()): void {
    this.pending.set(keyId, new Date(now));
    const minute = Math.floor(now / 60_000);
    let m = this.minutes.get(keyId);
    if (!m) {
      m = { minute, count: 0, average: 0, reported: false };
      this.minutes.set(keyId, m);
    }
    if (m.minute !== minute) {
      // Roll forward, counting idle minutes in between as zero.
      const gap = Math.min(minute - m.minute, 60);
      for (let i = 0; i < gap; i++) m.average = m.average * 0.8 + (i === 0 ? m.count : 0) * 0.2;
      m.minute = minute;
      m.count = 0;
      m.reported = false;
    }
    m.count++;
    if (!m.reported && m.count > SPIKE_MIN_REQUESTS && m.count > SPIKE_FACTOR * Math.max(m.average, 1)) {
      m.reported = true;
      void this.events.record('api_key_usage_spike', 'medium', {
        ip,
        userAgent,
        teamId,
        apiKeyId: keyId,
        details: { requestsThisMinute: m.count, averagePerMinute: Math.round(m.average * 10) / 10 },
      });
    }
  }

  /** Writes every pending lastUsedAt in one statement. */
  async flush(): Promise<number> {
    if (this.pending.size === 0) return 0;
    const entries = [...this.pending.entries()];
    this.pending.clear();
    try {
      await queryRows(
        this.dataSource.manager,
        `UPDATE api_keys k SET last_used_at = GREATEST(coalesce(k.last_used_at, u.at), u.at)
           FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, at) WHERE k.id = u.id`,
        [entries.map(([id]) => id), entries.map(([, at]) => at)],
      );
    } catch (err) {
      // Keep them for the next flush rather than lose them.
      for (const [id, at] of entries) if (!this.pending.has(id)) this.pending.set(id, at);
      this.logger.warn(`could not flush API key usage: ${(err as Error).message}`);
    }
    return entries.length;
  }
}
