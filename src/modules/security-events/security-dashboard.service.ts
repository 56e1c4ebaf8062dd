import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../common/time/clock';
import { queryRows } from '../../database/query-rows';

export interface SecurityDashboard {
  windowHours: number;
  from: string;
  to: string;
  loginAttempts: number;
  successfulLogins: number;
  failedLogins: number;
  lockouts: number;
  tokenRefreshes: number;
  theftDetections: number;
  geoAnomalies: number;
  activeSessions: number;
  averageSessionDurationSeconds: number | null;
  eventsByHour: { hour: string; counts: Record<string, number> }[];
  recentCritical: {
    id: string;
    eventType: string;
    severity: string;
    ip: string | null;
    userId: string | null;
    createdAt: string;
  }[];
}

const WINDOW_HOURS = 24;

/**
 * The last 24 hours of a team, counted from security_events (and live sessions from the sessions table).
 * Definitions: failed logins = login_failed + lockout_attempt_while_locked; attempts = successes + failures.
 */
@Injectable()
export class SecurityDashboardService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async forTeam(teamId: string, now = this.clock.now()): Promise<SecurityDashboard> {
    const from = new Date(now.getTime() - WINDOW_HOURS * 3_600_000);
    const counts = await queryRows<{ event_type: string; n: string }>(
      this.dataSource.manager,
      `SELECT event_type, count(*) AS n FROM security_events
        WHERE team_id = $1 AND created_at >= $2 AND created_at <= $3 GROUP BY event_type`,
      [teamId, from, now],
    );
    const count = (type: string) => Number(counts.find((c) => c.event_type === type)?.n ?? 0);
    const byHour = await queryRows<{ hour: Date; event_type: string; n: string }>(
      this.dataSource.manager,
      `SELECT date_trunc('hour', created_at) AS hour, event_type, count(*) AS n FROM security_events
        WHERE team_id = $1 AND created_at >= $2 AND created_at <= $3 GROUP BY 1, 2 ORDER BY 1`,
      [teamId, from, now],
    );
    const hours = new Map<string, Record<string, number>>();
    for (const row of byHour) {
      const key = row.hour.toISOString();
      const bucket = hours.get(key) ?? {};
      bucket[row.event_type] = Number(row.n);
      hours.set(key, bucket);
    }
    const critical = await queryRows<{
      id: string;
      event_type: string;
      severity: string;
      ip_address: string | null;
      user_id: string | null;
      created_at: Date;
    }>(
      this.dataSource.manager,
      `SELECT id, event_type, severity, ip_address, user_id, created_at FROM security_events
          WHERE team_id = $1 AND severity IN ('critical', 'high') AND created_at >= $2
          ORDER BY created_at DESC, id DESC LIMIT 10`,
      [teamId, from],
    );
    const sessions = await this.sessionMetrics(teamId, from, now);
    const successes = count('login_success');
    const failures = count('login_failed') + count('lockout_attempt_while_locked');
    return {
      windowHours: WINDOW_HOURS,
      from: from.toISOString(),
      to: now.toISOString(),
      loginAttempts: successes + failures,
      successfulLogins: successes,
      failedLogins: failures,
      lockouts: count('account_locked'),
      tokenRefreshes: count('token_refreshed'),
      theftDetections: count('token_theft_detected'),
      geoAnomalies: count('geo_anomaly_detected'),
      ...sessions,
      eventsByHour: [...hours.entries()].map(([hour, c]) => ({ hour, counts: c })),
      recentCritical: critical.map((r) => ({
        id: r.id,
        eventType: r.event_type,
        severity: r.severity,
        ip: r.ip_address,
        userId: r.user_id,
        createdAt: r.created_at.toISOString(),
      })),
    };
  }

  /** Live sessions now, and the mean length of the sessions used in the window (start to last use or revocation). */
  private async sessionMetrics(
    teamId: string,
    from: Date,
    now: Date,
  ): Promise<{ activeSessions: number; averageSessionDurationSeconds: number | null }> {
    const [row] = await queryRows<{ active: string; avg_seconds: string | null }>(
      this.dataSource.manager,
      `SELECT
         count(*) FILTER (WHERE s.revoked_at IS NULL AND s.expires_at > $3) AS active,
         avg(extract(epoch FROM (coalesce(s.revoked_at, s.last_used_at) - s.created_at)))
           FILTER (WHERE coalesce(s.revoked_at, s.last_used_at) >= $2) AS avg_seconds
       FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE u.team_id = $1`,
      [teamId, from, now],
    );
    return {
      activeSessions: Number(row?.active ?? 0),
      averageSessionDurationSeconds: row?.avg_seconds == null ? null : Math.round(Number(row.avg_seconds)),
    };
  }
}
