import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SecurityEventSink } from '../../common/security/security-event-sink';
import { SecurityEvent } from './entities/security-event.entity';
import { SecurityDashboardService } from './security-dashboard.service';
import { SecurityEventsController } from './security-events.controller';
import { SecurityEventsQuery } from './security-events.query';
import { SecurityEventsRetention } from './security-events-retention.service';
import { SecurityEventsService } from './security-events.service';

@Global()
@Module({
  imports: [TypeOrmModule.forFeature([SecurityEvent])],
  controllers: [SecurityEventsController],
  providers: [
    SecurityEventsService,
    { provide: SecurityEventSink, useExisting: SecurityEventsService },
    SecurityEventsQuery,
    SecurityDashboardService,
    SecurityEventsRetention,
  ],
  exports: [SecurityEventsService, SecurityEventSink],
})
export class SecurityEventsModule {}
