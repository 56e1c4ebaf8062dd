import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiDataResponse, ApiErrorResponses } from '../../common/http/api-responses.decorator';
import { UuidPipe } from '../../common/http/uuid.pipe';
import { RateLimit } from '../../common/rate-limit/rate-limit.decorator';
import {
  CurrentActor,
  Permission,
  RequireFreshAuth,
  RequireMfaEnrolment,
  UsersOnly,
} from '../../common/security/decorators';
import { Actor } from '../../common/security/principal';
import { CreateUserDto, UpdateUserDto, UserDeletedResponse, UserResponse } from './dto/users-admin.dto';
import { UsersAdminService } from './users-admin.service';
import { RecordAssignmentService } from '../crm/common/record-assignment.service';
import { ReassignRecordsDto, ReassignedResponse, RemoveUserQuery } from './dto/reassign.dto';

const ADMIN_ONLY: [number, string] = [403, 'FORBIDDEN: admins only (API keys are refused too)'];
/** Every change under /v1/users needs a recent password entry (step-up), whatever else it asks for. */
const STALE: [number, string] = [401, 'UNAUTHENTICATED, or REAUTH_REQUIRED (POST /v1/auth/reauth first)'];

@ApiTags('users')
@UsersOnly()
@RequireMfaEnrolment('admin-actions')
@Controller('users')
export class UsersAdminController {
  constructor(
    private readonly users: UsersAdminService,
    private readonly assignments: RecordAssignmentService,
  ) {}

  @Get()
  @Permission('users', 'read')
  @ApiOperation({ summary: "The team's users (admin)" })
  @ApiDataResponse(UserResponse, { isArray: true, description: "The team's users, oldest first" })
  @ApiErrorResponses(401, ADMIN_ONLY)
  list(@CurrentActor() actor: Actor) {
    return this.users.list(actor);
  }

  @Get(':id')
  @Permission('users', 'read')
  @ApiOperation({ summary: 'One user of the team (admin)' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiDataResponse(UserResponse)
  @ApiErrorResponses(400, 401, ADMIN_ONLY, 404)
  get(@Param('id', UuidPipe) id: string, @CurrentActor() actor: Actor) {
    return this.users.get(actor, id);
  }

  @Post()
  @HttpCode(201)
  @Permission('users', 'write')
  @RequireFreshAuth()
  @RateLimit('register')
  @ApiOperation({
    summary: 'Add a user to the team with a password (admin; for automation)',
    description:
      'The password must pass the password policy. A taken email is 409 whichever team has it (what registration answers anyone), and the route counts toward the register rate limit (RATE_LIMIT_REGISTER_MAX per RATE_LIMIT_REGISTER_WINDOW, per client IP).',
  })
  @ApiDataResponse(UserResponse, { status: 201, description: 'Created' })
  @ApiErrorResponses(
    [400, 'VALIDATION_ERROR: bad fields, or the password breaks the policy (details list each rule)'],
    STALE,
    ADMIN_ONLY,
    [409, 'CONFLICT: the email already has an account (in any team; the same answer either way)'],
    [429, 'AUTH_RATE_LIMIT: the register limit; Retry-After says when to try again'],
  )
  create(@Body() body: CreateUserDto, @CurrentActor() actor: Actor) {
    return this.users.create(actor, body);
  }

  @Patch(':id')
  @Permission('users', 'write')
  @RequireFreshAuth()
  @ApiOperation({
    summary: "Change a user's role or disable them (admin)",
    description:
      "Disabling or changing the role revokes the user's sessions. You cannot demote or disable yourself (400); a team keeps at least one enabled admin (409).",
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiDataResponse(UserResponse)
  @ApiErrorResponses(400, STALE, ADMIN_ONLY, 404, [409, 'CONFLICT: the team would have no enabled admin left'])
  update(@Param('id', UuidPipe) id: string, @Body() body: UpdateUserDto, @CurrentActor() actor: Actor) {
    return this.users.update(actor, id, body);
  }

  @Delete(':id')
  @Permission('users', 'delete')
  @RequireFreshAuth()
  @ApiOperation({
    summary: 'Remove a user from the team (admin)',
    description:
      'Revokes their sessions. Their records and open tasks go to `reassignTo`, or end unassigned (each with an audit row), in the same transaction. Not yourself (400); not the last enabled admin (409). Needs a recent password entry.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiDataResponse(UserDeletedResponse)
  @ApiErrorResponses(
    400,
    [401, 'UNAUTHENTICATED, or REAUTH_REQUIRED'],
    ADMIN_ONLY,
    [404, 'NOT_FOUND: no such user in your team, or reassignTo is not an enabled user of your team'],
    [409, 'CONFLICT: the team would have no enabled admin left'],
  )
  remove(@Param('id', UuidPipe) id: string, @Query() query: RemoveUserQuery, @CurrentActor() actor: Actor) {
    return this.users.remove(actor, id, query.reassignTo);
  }

  @Post(':id/reassign')
  @HttpCode(200)
  @Permission('users', 'write')
  @RequireFreshAuth()
  @ApiOperation({
    summary: "Hand a user's records to another user (admin)",
    description:
      'Every live record (clients, leads, appointments, escrows, listings, activities) and open task assigned to `:id` is assigned to `toUserId` (or to nobody), each with an audit row, in one transaction. `:id` may be disabled.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The user whose records move' })
  @ApiDataResponse(ReassignedResponse)
  @ApiErrorResponses([400, 'VALIDATION_ERROR: not a UUID, toUserId missing, or toUserId is :id'], STALE, ADMIN_ONLY, [
    404,
    'NOT_FOUND: no such user in your team, or toUserId is not an enabled user of your team',
  ])
  reassign(@Param('id', UuidPipe) id: string, @Body() body: ReassignRecordsDto, @CurrentActor() actor: Actor) {
    return this.assignments.reassign(actor, id, body.toUserId);
  }

  @Post(':id/unlock')
  @HttpCode(200)
  @Permission('users', 'write')
  @RequireFreshAuth()
  @ApiOperation({
    summary: "Clear a user's lockout (admin)",
    description:
      'The failure count and the lock are cleared; an account_unlocked event and an audit row are written. Not yourself (400).',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiDataResponse(UserResponse)
  @ApiErrorResponses([400, 'VALIDATION_ERROR: not a UUID, or your own account'], STALE, ADMIN_ONLY, 404)
  unlock(@Param('id', UuidPipe) id: string, @CurrentActor() actor: Actor) {
    return this.users.unlock(actor, id);
  }

  @Delete(':id/2fa')
  @Permission('users', 'write')
  @RequireMfaEnrolment('always')
  @RequireFreshAuth()
  @ApiOperation({
    summary: "Turn off a user's 2FA (lost phone and backup codes; admin with 2FA)",
    description:
      'Removes the secret and backup codes, revokes every session of the user and mails them; mfa_reset event (high) and an audit row. Not yourself (400: use POST /v1/auth/2fa/disable); 409 when the user has no 2FA.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiDataResponse(UserResponse)
  @ApiErrorResponses(
    [400, 'VALIDATION_ERROR: not a UUID, or your own account'],
    STALE,
    [403, 'FORBIDDEN: admins only | MFA_ENROLLMENT_REQUIRED: the caller has no 2FA'],
    404,
    [409, 'CONFLICT: the user has no 2FA enabled'],
  )
  resetMfa(@Param('id', UuidPipe) id: string, @CurrentActor() actor: Actor) {
    return this.users.resetMfa(actor, id);
  }
}
