import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ApiLockoutBusyResponse } from '../../common/http/api-responses.decorator';
import { CurrentActor, CurrentPrincipal, RequireFreshAuth, UsersOnly } from '../../common/security/decorators';
import { Actor, UserPrincipal } from '../../common/security/principal';
import { ConfirmMfaDto, EnableMfaDto } from './dto/mfa.dto';
import { MfaService } from './mfa.service';

@ApiTags('auth')
@UsersOnly()
@Controller('auth/2fa')
export class MfaController {
  constructor(private readonly mfa: MfaService) {}

  @Get()
  @ApiOperation({ summary: 'Whether 2FA is on, since when, and how many backup codes are left' })
  @ApiOkResponse({ description: 'data: {enabled, enabledAt, backupCodesLeft}' })
  @ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: API keys cannot use this route' })
  status(@CurrentPrincipal() principal: UserPrincipal) {
    return this.mfa.status(principal.userId);
  }

  @Post('setup')
  @HttpCode(200)
  @RequireFreshAuth()
  @ApiOperation({
    summary:
      'Start TOTP enrolment: a new secret, its otpauth:// URI and a QR code (PNG data URL); not active until enabled',
  })
  @ApiOkResponse({ description: 'data: {secret, otpauthUrl, qrCode}' })
  @ApiConflictResponse({ description: 'CONFLICT: 2FA already enabled' })
  @ApiUnauthorizedResponse({ description: 'REAUTH_REQUIRED: the password was entered too long ago' })
  setup(@CurrentPrincipal() principal: UserPrincipal) {
    return this.mfa.setup(principal);
  }

  @Post('enable')
  @HttpCode(200)
  @RequireFreshAuth()
  @ApiOperation({ summary: 'Confirm enrolment with a current code; returns 10 one-time backup codes (shown once)' })
  @ApiOkResponse({ description: 'data: {backupCodes: string[10]}' })
  @ApiUnauthorizedResponse({ description: 'INVALID_MFA_CODE | REAUTH_REQUIRED' })
  @ApiResponse({ status: 423, description: 'ACCOUNT_LOCKED: wrong codes count toward the account lock' })
  @ApiLockoutBusyResponse()
  enable(@CurrentPrincipal() principal: UserPrincipal, @Body() body: EnableMfaDto, @CurrentActor() actor: Actor) {
    return this.mfa.enable(principal, body.code, actor);
  }

  @Post('disable')
  @HttpCode(200)
  @RequireFreshAuth()
  @ApiOperation({ summary: 'Turn 2FA off: needs the password and a current code (or a backup code)' })
  @ApiOkResponse({ description: 'data: {enabled: false}' })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS | INVALID_MFA_CODE | REAUTH_REQUIRED' })
  @ApiResponse({ status: 423, description: 'ACCOUNT_LOCKED: wrong passwords and codes count toward the account lock' })
  @ApiLockoutBusyResponse()
  async disable(
    @CurrentPrincipal() principal: UserPrincipal,
    @Body() body: ConfirmMfaDto,
    @CurrentActor() actor: Actor,
  ) {
    await this.mfa.disable(principal, body.password, body.code, actor);
    return { enabled: false };
  }

  @Post('backup-codes')
  @HttpCode(200)
  @RequireFreshAuth()
  @ApiOperation({
    summary: 'A fresh set of 10 backup codes (the old set stops working): needs the password and a code',
  })
  @ApiOkResponse({ description: 'data: {backupCodes: string[10]}' })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS | INVALID_MFA_CODE | REAUTH_REQUIRED' })
  @ApiResponse({ status: 423, description: 'ACCOUNT_LOCKED: wrong passwords and codes count toward the account lock' })
  @ApiLockoutBusyResponse()
  regenerate(@CurrentPrincipal() principal: UserPrincipal, @Body() body: ConfirmMfaDto, @CurrentActor() actor: Actor) {
    return this.mfa.regenerateBackupCodes(principal, body.password, body.code, actor);
  }
}
