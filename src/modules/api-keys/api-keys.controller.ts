import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ApiLockoutBusyResponse } from '../../common/http/api-responses.decorator';
import { ShownOnceSecret } from '../../common/http/shown-once-secret.decorator';
import { UuidPipe } from '../../common/http/uuid.pipe';
import {
  CurrentActor,
  CurrentPrincipal,
  Permission,
  RequireFreshAuth,
  RequireMfaEnrolment,
  UsersOnly,
} from '../../common/security/decorators';
import { Actor, UserPrincipal } from '../../common/security/principal';
import { ApiKeysService } from './api-keys.service';
import { CreateApiKeyDto } from './dto/api-key.dto';

@ApiTags('api-keys')
@ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED' })
@ApiForbiddenResponse({ description: 'FORBIDDEN (admins only; API keys cannot manage keys) | MFA_ENROLLMENT_REQUIRED' })
@UsersOnly()
@RequireMfaEnrolment()
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @Permission('api_keys', 'write')
  @RequireFreshAuth()
  @ShownOnceSecret('key')
  @ApiOperation({
    summary:
      'Create a key (admin with 2FA, a recent password entry and a fresh code in `otp`); the key is shown this once',
  })
  @ApiCreatedResponse({
    description:
      'data: {id, key, prefix, scopes, expiresAt, allowedIps, ...}; an Idempotency-Key replay has `key: null` (shown once)',
  })
  @ApiUnauthorizedResponse({ description: 'INVALID_MFA_CODE | REAUTH_REQUIRED' })
  @ApiResponse({ status: 423, description: 'ACCOUNT_LOCKED: wrong codes count toward the account lock' })
  @ApiLockoutBusyResponse()
  create(@CurrentPrincipal() principal: UserPrincipal, @Body() body: CreateApiKeyDto, @CurrentActor() actor: Actor) {
    return this.keys.create(principal, body, actor);
  }

  @Get()
  @Permission('api_keys', 'read')
  @ApiOperation({ summary: "The team's keys, without secrets, with lastUsedAt" })
  list(@CurrentPrincipal() principal: UserPrincipal) {
    return this.keys.list(principal.teamId);
  }

  @Delete(':id')
  @Permission('api_keys', 'delete')
  @ApiOperation({ summary: 'Revoke a key; it stops working at once' })
  @ApiOkResponse({ description: 'data: the revoked key, without its secret (revokedAt set)' })
  @ApiNotFoundResponse({ description: 'NOT_FOUND' })
  @ApiConflictResponse({ description: 'CONFLICT: already revoked' })
  revoke(
    @CurrentPrincipal() principal: UserPrincipal,
    @Param('id', UuidPipe) id: string,
    @CurrentActor() actor: Actor,
  ) {
    return this.keys.revoke(principal, id, actor);
  }
}
