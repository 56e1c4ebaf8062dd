import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCookieAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { ApiLockoutBusyResponse } from '../../common/http/api-responses.decorator';
import { AppException } from '../../common/http/app.exception';
import { UuidPipe } from '../../common/http/uuid.pipe';
import { RateLimit } from '../../common/rate-limit/rate-limit.decorator';
import { AnyPrincipal, CurrentPrincipal, Public, UsersOnly } from '../../common/security/decorators';
import { Principal, UserPrincipal } from '../../common/security/principal';
import { actorOf } from '../../common/security/request-context';
import { AuthService, RequestOrigin } from './auth.service';
import { deviceFingerprint, deviceLabel } from './device';
import {
  ChangePasswordDto,
  ForgotPasswordDto,
  LoginDto,
  ReauthDto,
  RefreshDto,
  RegisterDto,
  ResetPasswordDto,
} from './dto/auth.dto';
import { clearRefreshCookie, presentedRefreshToken, setRefreshCookie } from './refresh-cookie';
import { SessionsService } from './sessions.service';
import { TokenRefreshService } from './token-refresh.service';

function originOf(request: FastifyRequest): RequestOrigin {
  const actor = actorOf(request);
  return {
    ip: actor.ip,
    userAgent: actor.userAgent,
    device: deviceLabel(actor.userAgent),
    fingerprint: deviceFingerprint(request.headers),
    headers: request.headers,
  };
}

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly refreshTokens: TokenRefreshService,
    private readonly sessions: SessionsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('register')
  @Public()
  @RateLimit('register')
  @ApiOperation({
    summary: 'Create a team and its first user (admin); signs in',
    description: 'Sets the refresh_token cookie.',
  })
  @ApiCreatedResponse({ description: 'data: {user, accessToken, expiresIn}' })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR (details list each password rule broken)' })
  @ApiConflictResponse({ description: 'CONFLICT: email taken' })
  @ApiTooManyRequestsResponse({ description: 'AUTH_RATE_LIMIT' })
  async register(
    @Body() body: RegisterDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { refreshToken, ...signedIn } = await this.auth.register(body, originOf(request));
    setRefreshCookie(reply, this.config, refreshToken);
    return signedIn;
  }

  @Post('login')
  @HttpCode(200)
  @Public()
  @RateLimit('login', { failuresOnly: true })
  @ApiOperation({
    summary: 'Sign in with email and password (and `otp` when 2FA is on)',
    description:
      'Sets the refresh_token cookie (httpOnly, path /v1/auth). Failed attempts count toward lockout and the login rate limit.',
  })
  @ApiOkResponse({ description: 'data: {user, accessToken, expiresIn}' })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS | MFA_REQUIRED | INVALID_MFA_CODE' })
  @ApiResponse({ status: 423, description: 'ACCOUNT_LOCKED: "Account locked for N minutes"' })
  @ApiTooManyRequestsResponse({
    description:
      'AUTH_RATE_LIMIT with Retry-After: the login limit, or every lockout slot of the account is held by sign-ins still being checked (overlapping sign-ins wait up to LOCKOUT_BUSY_WAIT_MS for one first; never 423 for that)',
  })
  async login(@Body() body: LoginDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const { refreshToken, ...signedIn } = await this.auth.login(body, originOf(request));
    setRefreshCookie(reply, this.config, refreshToken);
    return signedIn;
  }

  @Post('refresh')
  @HttpCode(200)
  @Public()
  @RateLimit('refresh')
  @ApiCookieAuth('refresh-cookie')
  @ApiOperation({
    summary:
      'Exchange the refresh token (cookie, or body for non-browser clients) for a new access token and a rotated refresh token',
    description:
      'The presented token is dead afterwards. Its immediate predecessor within REFRESH_TOKEN_REUSE_GRACE_SECONDS → INVALID_REFRESH_TOKEN; any other dead token → TOKEN_REUSE_DETECTED and every session of the user is revoked.',
  })
  @ApiOkResponse({
    description: 'data: {accessToken, expiresIn, refreshToken?} (refreshToken only when it came in the body)',
  })
  @ApiUnauthorizedResponse({ description: 'INVALID_REFRESH_TOKEN | TOKEN_REUSE_DETECTED' })
  async refresh(
    @Body() body: RefreshDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const presented = presentedRefreshToken(request, body?.refreshToken);
    try {
      const { refreshToken, ...access } = await this.refreshTokens.refresh(presented.token, originOf(request));
      setRefreshCookie(reply, this.config, refreshToken);
      return presented.fromBody ? { ...access, refreshToken } : access;
    } catch (err) {
      if (err instanceof AppException && err.code === 'TOKEN_REUSE_DETECTED') clearRefreshCookie(reply, this.config);
      throw err;
    }
  }

  @Post('logout')
  @HttpCode(200)
  @Public()
  @ApiCookieAuth('refresh-cookie')
  @ApiOperation({ summary: "Revoke this session's refresh token (cookie or body) and clear the cookie" })
  @ApiOkResponse({ description: 'data: {loggedOut: true}' })
  @ApiBadRequestResponse({
    description: 'VALIDATION_ERROR: unknown fields, or refreshToken is not a string (at most 200)',
  })
  async logout(
    @Body() body: RefreshDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { token } = presentedRefreshToken(request, body?.refreshToken);
    if (token && token.length <= 200) await this.auth.logout(token, originOf(request));
    clearRefreshCookie(reply, this.config);
    return { loggedOut: true };
  }

  @Post('logout-all')
  @HttpCode(200)
  @UsersOnly()
  @ApiOperation({ summary: 'Revoke every session of the signed-in user (all devices)' })
  @ApiOkResponse({ description: 'data: {revokedSessions}' })
  @ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: API keys cannot use this route' })
  async logoutAll(
    @CurrentPrincipal() principal: UserPrincipal,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const revoked = await this.auth.logoutAll(principal, originOf(request));
    clearRefreshCookie(reply, this.config);
    return { revokedSessions: revoked };
  }

  @Get('sessions')
  @UsersOnly()
  @ApiOperation({ summary: 'Active sessions of the signed-in user: device, ip, createdAt, lastUsedAt, current' })
  @ApiOkResponse({ description: 'data: [{id, device, ip, userAgent, createdAt, lastUsedAt, current}]' })
  @ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: API keys cannot use this route' })
  async listSessions(@CurrentPrincipal() principal: UserPrincipal) {
    const rows = await this.sessions.listLive(principal.userId);
    return rows.map((s) => ({
      id: s.id,
      device: s.device,
      ip: s.ip,
      userAgent: s.user_agent,
      createdAt: s.created_at.toISOString(),
      lastUsedAt: s.last_used_at.toISOString(),
      current: s.id === principal.sessionId,
    }));
  }

  @Delete('sessions/:id')
  @UsersOnly()
  @ApiOperation({ summary: 'Revoke one of your sessions' })
  @ApiOkResponse({ description: 'data: {revoked: true, id}' })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR: the id is not a UUID' })
  @ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: API keys cannot use this route' })
  @ApiNotFoundResponse({ description: 'NOT_FOUND: not one of your live sessions' })
  async revokeSession(
    @CurrentPrincipal() principal: UserPrincipal,
    @Param('id', UuidPipe) id: string,
    @Req() request: FastifyRequest,
  ) {
    if (!(await this.auth.revokeOwnSession(principal, id, originOf(request)))) throw AppException.notFound('Session');
    return { revoked: true, id };
  }

  @Get('me')
  @AnyPrincipal()
  @ApiOperation({ summary: 'The caller: the signed-in user, or the API key and its scopes' })
  @ApiOkResponse({
    description: 'data: {type: "user", ...the user, sessionId, authTime} or {type: "apiKey", id, name, teamId, scopes}',
  })
  @ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED' })
  async me(@CurrentPrincipal() principal: Principal) {
    if (principal.kind === 'apiKey') {
      return {
        type: 'apiKey',
        id: principal.apiKeyId,
        name: principal.name,
        teamId: principal.teamId,
        scopes: principal.scopes,
      };
    }
    return {
      type: 'user',
      ...(await this.auth.me(principal)),
      sessionId: principal.sessionId,
      authTime: new Date(principal.authTime).toISOString(),
    };
  }

  @Post('reauth')
  @HttpCode(200)
  @UsersOnly()
  @ApiOperation({
    summary: 'Confirm the password (and otp when 2FA is on): a fresh access token whose auth_time is now',
    description: 'Unlocks delete and export for REAUTH_WINDOW_MINUTES.',
  })
  @ApiOkResponse({ description: 'data: {accessToken, expiresIn}' })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS | MFA_REQUIRED | INVALID_MFA_CODE' })
  @ApiResponse({ status: 423, description: 'ACCOUNT_LOCKED: wrong passwords and codes count toward the account lock' })
  @ApiLockoutBusyResponse()
  reauth(@CurrentPrincipal() principal: UserPrincipal, @Body() body: ReauthDto, @Req() request: FastifyRequest) {
    return this.auth.reauth(principal, body, originOf(request));
  }

  @Post('change-password')
  @HttpCode(200)
  @UsersOnly()
  @ApiOperation({ summary: 'Change the password; every other session is revoked (this one stays)' })
  @ApiOkResponse({ description: 'data: {revokedSessions}' })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR: policy or a recently used password' })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS: wrong current password' })
  @ApiResponse({ status: 423, description: 'ACCOUNT_LOCKED: wrong passwords count toward the account lock' })
  @ApiLockoutBusyResponse()
  changePassword(
    @CurrentPrincipal() principal: UserPrincipal,
    @Body() body: ChangePasswordDto,
    @Req() request: FastifyRequest,
  ) {
    return this.auth.changePassword(principal, body, originOf(request));
  }

  @Post('forgot-password')
  @HttpCode(202)
  @Public()
  @RateLimit('forgotPassword')
  @ApiOperation({
    summary: 'Mail a single-use reset link (30 minutes) if the address has an account',
    description: 'Always 202, whether or not the address exists.',
  })
  @ApiAcceptedResponse({ description: 'data: {accepted: true}' })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR: not an email address' })
  @ApiTooManyRequestsResponse({ description: 'AUTH_RATE_LIMIT with Retry-After' })
  forgotPassword(@Body() body: ForgotPasswordDto, @Req() request: FastifyRequest) {
    this.auth.requestPasswordReset(body.email, originOf(request));
    return { accepted: true };
  }

  @Post('reset-password')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'Set a new password with the token from the reset mail; every session is revoked; does not sign in',
  })
  @ApiOkResponse({ description: 'data: {reset: true}' })
  @ApiBadRequestResponse({
    description: 'VALIDATION_ERROR: invalid/expired/used token, policy, or a recently used password',
  })
  async resetPassword(@Body() body: ResetPasswordDto, @Req() request: FastifyRequest) {
    await this.auth.resetPassword(body, originOf(request));
    return { reset: true };
  }
}
