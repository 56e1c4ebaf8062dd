import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { EventEmitter } from 'node:events';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../../common/time/clock';
import { type SecurityEventContext, SecurityEventSink } from '../../common/security/security-event-sink';
import { Metrics } from '../../common/metrics/metrics';
import { SecurityEvent, SecurityEventType, Severity } from './entities/security-event.entity';

export { eventContext, type SecurityEventContext } from '../../common/security/security-event-sink';

/**
 * The single writer of security events: auth, guards and honeypots call record(); alerts subscribe with
 * onRecorded(). Recording never fails the request that caused it.
 */
@Injectable()
export class SecurityEventsService implements SecurityEventSink {
  private readonly logger = new Logger(SecurityEventsService.name);
  private readonly emitter = new EventEmitter();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    @Optional() private readonly metrics?: Metrics,
  ) {
    this.emitter.setMaxListeners(50);
  }

  onRecorded(listener: (event: SecurityEvent) => void): void {
    this.emitter.on('recorded', listener);
  }

  /**
   * One structured line per event, team or not: the operator's view of the whole instance (honeypot hits,
   * unknown emails and blocked IPs belong to no team and reach no admin's event list).
   */
  private logLine(event: SecurityEvent): void {
    const line = {
      securityEvent: event.eventType,
      severity: event.severity,
      ip: event.ipAddress,
      userId: event.userId,
      teamId: event.teamId,
      apiKeyId: event.apiKeyId,
      details: event.details,
    };
    if (event.severity === 'high' || event.severity === 'critical') this.logger.warn(line);
    else this.logger.log(line);
  }

  async record(
    type: SecurityEventType,
    severity: Severity,
    ctx: SecurityEventContext,
    manager?: EntityManager,
  ): Promise<SecurityEvent | undefined> {
    this.metrics?.securityEvent(type, severity);
    if (!this.config.securityEvents.enabled) return undefined;
    const repo = (manager ?? this.dataSource.manager).getRepository(SecurityEvent);
    try {
      const event = await repo.save(
        repo.create({
          eventType: type,
          severity,
          teamId: ctx.teamId ?? null,
          userId: ctx.userId ?? null,
          apiKeyId: ctx.apiKeyId ?? null,
          ipAddress: ctx.ip ?? null,
          userAgent: ctx.userAgent ?? null,
          details: ctx.details ?? {},
          // The Clock's time, like the retention that purges by it.
          createdAt: this.clock.now(),
        }),
      );
      this.emitter.emit('recorded', event);
      this.logLine(event);
      return event;
    } catch (err) {
      this.logger.error(`could not record security event ${type}: ${(err as Error).message}`);
      return undefined;
    }
  }
}
