import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { queryRows } from '../../database/query-rows';
import { SecurityEvent } from '../security-events/entities/security-event.entity';
import { SecurityEventsService } from '../security-events/security-events.service';
import { locate, milesBetween } from './geo';

/**
 * With ENABLE_IP_ANOMALY_DETECTION, every successful login is compared with the user's previous one: farther
 * than GEO_ANOMALY_THRESHOLD_MILES apart writes `geo_anomaly_detected`. It listens to login_success events,
 * so it runs after the login has been answered and the auth flow does not depend on it.
 */
@Injectable()
export class GeoAnomalyService implements OnModuleInit {
  private readonly logger = new Logger(GeoAnomalyService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: SecurityEventsService,
  ) {}

  onModuleInit(): void {
    if (!this.config.detection.ipAnomaly) return;
    this.events.onRecorded((event) => {
      if (event.eventType === 'login_success' && event.userId && event.ipAddress) {
        setImmediate(
          () => void this.check(event).catch((err) => this.logger.warn(`geo check failed: ${(err as Error).message}`)),
        );
      }
    });
  }

  async check(login: SecurityEvent): Promise<number | null> {
    const [previous] = await queryRows<{ ip_address: string }>(
      this.dataSource.manager,
      `SELECT ip_address FROM security_events
        WHERE user_id = $1 AND event_type = 'login_success' AND id <> $2 AND created_at <= $3 AND ip_address IS NOT NULL
        ORDER BY created_at DESC, id DESC LIMIT 1`,
      [login.userId, login.id, login.createdAt],
    );
    if (!previous || previous.ip_address === login.ipAddress) return null;
    const from = locate(previous.ip_address);
    const to = locate(login.ipAddress!);
    if (!from || !to) return null;
    const miles = Math.round(milesBetween(from.ll, to.ll));
    if (miles <= this.config.detection.geoThresholdMiles) return miles;
    await this.events.record('geo_anomaly_detected', 'high', {
      ip: login.ipAddress,
      userAgent: login.userAgent,
      userId: login.userId,
      teamId: login.teamId,
      details: {
        miles,
        thresholdMiles: this.config.detection.geoThresholdMiles,
        previous: { ip: previous.ip_address, country: from.country, city: from.city },
        current: { ip: login.ipAddress, country: to.country, city: to.city },
      },
    });
    return miles;
  }
}
