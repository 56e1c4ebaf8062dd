import { Controller, Get } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../common/security/decorators';
import { RateLimit } from '../common/rate-limit/rate-limit.decorator';
import { AppException } from '../common/http/app.exception';
import { GracefulDrain } from '../common/http/graceful-drain';
import { DataKeys } from '../modules/data-keys/data-keys.service';

@ApiTags('health')
@ApiTooManyRequestsResponse({
  description: 'RATE_LIMIT: over RATE_LIMIT_HEALTH_MAX; Retry-After says when to come back',
})
@Public()
@RateLimit('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly drain: GracefulDrain,
    private readonly dataKeys: DataKeys,
  ) {}

  /** Liveness: the process answers. */
  @Get()
  @ApiOperation({ summary: 'Liveness: the process answers (status and uptime)' })
  @ApiOkResponse({ description: 'The process is alive' })
  live() {
    return { status: 'ok', uptimeSeconds: Math.round(process.uptime()) };
  }

  /** Readiness: the database answers within 1.5 s, and this instance's data key is one it accepts. */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary:
      'Readiness: the database answers within 1.5 s, the process is not shutting down, and its DATA_ENCRYPTION_KEY is one the database accepts',
  })
  @ApiOkResponse({ description: 'Ready to serve: the database is reachable' })
  @ApiServiceUnavailableResponse({
    description:
      'SERVICE_UNAVAILABLE: the database is unreachable, or a key rotation finished without this instance (its DATA_ENCRYPTION_KEY no longer matches; the log says so)',
  })
  async ready() {
    // Shutting down: tell the load balancer to stop sending traffic here.
    if (this.drain.draining) throw new AppException('SERVICE_UNAVAILABLE', 'Shutting down');
    const result = await this.health.check([() => this.db.pingCheck('database', { timeout: 1500 })]);
    // Values this instance would seal now could not be read by the rest of the fleet after the rotation.
    if (await this.dataKeys.readinessProblem())
      throw new AppException('SERVICE_UNAVAILABLE', 'DATA_ENCRYPTION_KEY does not match the database (see the log)');
    return { status: result.status, checks: result.details };
  }
}
