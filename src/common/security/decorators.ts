import { type ExecutionContext, SetMetadata, applyDecorators, createParamDecorator } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { type Action, type Actor, type PermissionResource, type Principal } from './principal';
import { actorOf } from './request-context';

export const IS_PUBLIC = 'security:public';
export const PERMISSION = 'security:permission';
export const SENSITIVE = 'security:sensitive';
export const USERS_ONLY = 'security:users-only';
export const MFA_ENROLLED = 'security:mfa-enrolled';
export const ANY_PRINCIPAL = 'security:any-principal';

/** No credentials needed (login, register, health, honeypots). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

export interface PermissionSpec {
  resource: PermissionResource;
  action: Action;
}

/** One declaration checked against a user's role or an API key's scopes. */
export const Permission = (resource: PermissionResource, action: Action): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(PERMISSION, { resource, action } satisfies PermissionSpec),
    ApiBearerAuth(),
    ApiSecurity('api-key'),
  );

/** Signed-in people only; API keys are refused (auth, users, api-keys routes). */
export const UsersOnly = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(USERS_ONLY, true), ApiBearerAuth());

/** Any authenticated caller, user or API key, with no permission beyond being signed in (GET /v1/auth/me). */
export const AnyPrincipal = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(ANY_PRINCIPAL, true), ApiBearerAuth(), ApiSecurity('api-key'));

/**
 * Step-up: a Bearer caller must have entered the password within REAUTH_WINDOW_MINUTES (else 401
 * REAUTH_REQUIRED). 'delete' and 'export' follow REQUIRE_REAUTH_FOR_DELETE / _EXPORT; 'account' (2FA changes,
 * user management, key and webhook creation, team settings) is always on.
 */
export type SensitiveKind = 'delete' | 'export' | 'account';
export const Sensitive = (kind: SensitiveKind): MethodDecorator & ClassDecorator => SetMetadata(SENSITIVE, kind);
/** Always-on step-up (see Sensitive). */
export const RequireFreshAuth = (): MethodDecorator & ClassDecorator => Sensitive('account');

/**
 * The caller must have 2FA enabled. 'always' (API key creation, per the contract) or 'admin-actions' (user
 * management), which REQUIRE_MFA_FOR_ADMIN_ACTIONS can turn off for teams that enforce 2FA elsewhere.
 */
export type MfaEnrolmentPolicy = 'always' | 'admin-actions';
export const RequireMfaEnrolment = (policy: MfaEnrolmentPolicy = 'always'): MethodDecorator & ClassDecorator =>
  SetMetadata(MFA_ENROLLED, policy);

export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal | undefined => {
  return ctx.switchToHttp().getRequest<FastifyRequest>().principal;
});

/** The caller with its IP and user agent, for audit rows and security events. */
export const CurrentActor = createParamDecorator((_data: unknown, ctx: ExecutionContext): Actor => {
  return actorOf(ctx.switchToHttp().getRequest<FastifyRequest>());
});
