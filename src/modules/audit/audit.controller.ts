import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses, ApiPageResponse } from '../../common/http/api-responses.decorator';
import { CurrentActor, Permission, UsersOnly } from '../../common/security/decorators';
import { Actor } from '../../common/security/principal';
import { AuditService } from './audit.service';
import { AuditLogEntryDto } from './dto/audit-log-entry.dto';
import { AuditLogQuery } from './dto/audit-log-query.dto';

@ApiTags('audit')
@Controller('audit-log')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Permission('audit', 'read')
  @UsersOnly()
  @ApiOperation({
    summary: "The team's audit trail (admin)",
    description: 'One entry per create, update and delete, newest first; keyset pagination.',
  })
  @ApiPageResponse(AuditLogEntryDto)
  @ApiErrorResponses(400, 401, [403, 'FORBIDDEN: admins only; API keys cannot read the audit log'])
  list(@Query() query: AuditLogQuery, @CurrentActor() actor: Actor) {
    return this.audit.list(actor, query);
  }
}
