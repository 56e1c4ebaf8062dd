import { Controller, Get, Query } from '@nestjs/common';
import { ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { CurrentPrincipal, Permission, UsersOnly } from '../../common/security/decorators';
import { UserPrincipal } from '../../common/security/principal';
import { ListSecurityEventsQuery } from './dto/list-security-events.query';
import { SecurityDashboardService } from './security-dashboard.service';
import { SecurityEventsQuery } from './security-events.query';

@ApiTags('security')
@ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED' })
@ApiForbiddenResponse({ description: 'FORBIDDEN (admins only; API keys are refused)' })
@UsersOnly()
@Controller()
export class SecurityEventsController {
  constructor(
    private readonly events: SecurityEventsQuery,
    private readonly dashboard: SecurityDashboardService,
  ) {}

  @Get('security-events')
  @Permission('security', 'read')
  @ApiOperation({ summary: "The team's security events, newest first, with filters and keyset pages" })
  @ApiOkResponse({ description: 'data: events; meta: {limit, nextCursor}' })
  list(@CurrentPrincipal() principal: UserPrincipal, @Query() query: ListSecurityEventsQuery) {
    return this.events.list(principal.teamId, query);
  }

  @Get('security/dashboard')
  @Permission('security', 'read')
  @ApiOperation({
    summary:
      'Last 24 hours: login attempts, successes, failures, lockouts, refreshes, theft detections, geo anomalies, active sessions, average session duration',
  })
  @ApiOkResponse({
    description: 'Counts from the security event log, hourly series by type and recent high/critical events',
  })
  get(@CurrentPrincipal() principal: UserPrincipal) {
    return this.dashboard.forTeam(principal.teamId);
  }
}
