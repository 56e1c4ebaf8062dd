import { Body, Controller, Get, Patch } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiDataResponse, ApiErrorResponses } from '../../common/http/api-responses.decorator';
import { AnyPrincipal, CurrentActor, Permission, RequireFreshAuth, UsersOnly } from '../../common/security/decorators';
import { Actor } from '../../common/security/principal';
import { TeamResponse, UpdateTeamDto } from './dto/team.dto';
import { TeamsService } from './teams.service';

@ApiTags('team')
@Controller('team')
export class TeamsController {
  constructor(private readonly teams: TeamsService) {}

  @Get()
  @AnyPrincipal()
  @ApiOperation({ summary: 'Your team (any member or API key)' })
  @ApiDataResponse(TeamResponse)
  @ApiErrorResponses(401)
  get(@CurrentActor() actor: Actor) {
    return this.teams.get(actor);
  }

  @Patch()
  @UsersOnly()
  @Permission('team', 'write')
  @RequireFreshAuth()
  @ApiOperation({
    summary: "Change your team's name or record visibility (admin)",
    description:
      'agentVisibility `assigned` limits agents and viewers to the records assigned to them, from the next request on. Needs a recent password entry; audited (resource type `team`).',
  })
  @ApiDataResponse(TeamResponse)
  @ApiErrorResponses(
    400,
    [401, 'UNAUTHENTICATED, or REAUTH_REQUIRED: confirm the password (POST /v1/auth/reauth) first'],
    [403, 'FORBIDDEN: admins only (API keys are refused too)'],
  )
  update(@Body() body: UpdateTeamDto, @CurrentActor() actor: Actor) {
    return this.teams.update(actor, body);
  }
}
