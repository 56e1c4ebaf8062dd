import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiDataResponse, ApiErrorResponses } from '../../common/http/api-responses.decorator';
import { UuidPipe } from '../../common/http/uuid.pipe';
import { CurrentActor, Permission, RequireMfaEnrolment, Sensitive, UsersOnly } from '../../common/security/decorators';
import { Actor } from '../../common/security/principal';
import { CreateUserDto, UpdateUserDto, UserDeletedResponse, UserResponse } from './dto/users-admin.dto';
import { UsersAdminService } from './users-admin.service';

const ADMIN_ONLY: [number, string] = [403, 'FORBIDDEN: admins only (API keys are refused too)'];

@ApiTags('users')
@UsersOnly()
@RequireMfaEnrolment('admin-actions')
@Controller('users')
export class UsersAdminController {
  constructor(private readonly users: UsersAdminService) {}

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
  @ApiOperation({
    summary: 'Add a user to the team (admin)',
    description: 'The password must pass the password policy.',
  })
  @ApiDataResponse(UserResponse, { status: 201, description: 'Created' })
  @ApiErrorResponses(
    [400, 'VALIDATION_ERROR: bad fields, or the password breaks the policy (details list each rule)'],
    401,
    ADMIN_ONLY,
    [409, 'CONFLICT: email taken'],
  )
  create(@Body() body: CreateUserDto, @CurrentActor() actor: Actor) {
    return this.users.create(actor, body);
  }

  @Patch(':id')
  @Permission('users', 'write')
  @ApiOperation({
    summary: "Change a user's role or disable them (admin)",
    description:
      "Disabling or changing the role revokes the user's sessions. You cannot demote or disable yourself (400); a team keeps at least one enabled admin (409).",
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiDataResponse(UserResponse)
  @ApiErrorResponses(400, 401, ADMIN_ONLY, 404, [409, 'CONFLICT: the team would have no enabled admin left'])
  update(@Param('id', UuidPipe) id: string, @Body() body: UpdateUserDto, @CurrentActor() actor: Actor) {
    return this.users.update(actor, id, body);
  }

  @Delete(':id')
  @Permission('users', 'delete')
  @Sensitive('delete')
  @ApiOperation({
    summary: 'Remove a user from the team (admin)',
    description:
      'Revokes their sessions. Not yourself (400); not the last enabled admin (409). Needs a recent password entry.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiDataResponse(UserDeletedResponse)
  @ApiErrorResponses(400, [401, 'UNAUTHENTICATED, or REAUTH_REQUIRED'], ADMIN_ONLY, 404, [
    409,
    'CONFLICT: the team would have no enabled admin left',
  ])
  remove(@Param('id', UuidPipe) id: string, @CurrentActor() actor: Actor) {
    return this.users.remove(actor, id);
  }
}
