import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { AppException } from '../http/app.exception';
import { Clock } from '../time/clock';
import {
  ANY_PRINCIPAL,
  IS_PUBLIC,
  MFA_ENROLLED,
  MfaEnrolmentPolicy,
  PERMISSION,
  PermissionSpec,
  SENSITIVE,
  SensitiveKind,
  USERS_ONLY,
} from './decorators';
import { roleAllows, scopesAllow } from './principal';
import { actorOf } from './request-context';
import { SecurityEventSink, eventContext } from './security-event-sink';

/**
 * After authentication: API keys kept off user-only routes, the route's @Permission checked against the
 * role or the scopes, 2FA enrolment where required, and a recent password entry for @Sensitive routes.
 * Every denial is a security event.
 */
@Injectable()
export class AuthorizationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly events: SecurityEventSink,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  private meta<T>(key: string, context: ExecutionContext): T | undefined {
    return this.reflector.getAllAndOverride<T>(key, [context.getHandler(), context.getClass()]);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.meta<boolean>(IS_PUBLIC, context)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const principal = request.principal;
    if (!principal) throw AppException.unauthenticated();
    const actor = actorOf(request);
    const path = request.url.split('?')[0];
    const permission = this.meta<PermissionSpec>(PERMISSION, context);

    if (this.meta<boolean>(ANY_PRINCIPAL, context)) return true;

    if (principal.kind === 'apiKey') {
      if (this.meta<boolean>(USERS_ONLY, context) || !permission) {
        await this.events.record(
          'permission_denied',
          'medium',
          eventContext(actor, { path, reason: 'api_key_not_allowed' }),
        );
        throw AppException.forbidden('API keys cannot access this route');
      }
      if (!scopesAllow(principal.scopes, permission.resource, permission.action)) {
        const scope = `${permission.resource}:${permission.action}`;
        await this.events.record('insufficient_scope', 'medium', eventContext(actor, { path, required: scope }));
        throw new AppException('INSUFFICIENT_SCOPE', `Requires ${scope}`);
      }
      return true;
    }

    if (permission && !roleAllows(principal.role, permission.resource, permission.action)) {
      await this.events.record(
        'permission_denied',
        'medium',
        eventContext(actor, { path, role: principal.role, required: `${permission.resource}:${permission.action}` }),
      );
      throw AppException.forbidden(
        `Your role (${principal.role}) does not allow ${permission.action} on ${permission.resource}`,
      );
    }
    const mfaPolicy = this.meta<MfaEnrolmentPolicy>(MFA_ENROLLED, context);
    const mfaRequired =
      mfaPolicy === 'always' || (mfaPolicy === 'admin-actions' && this.config.requireMfaForAdminActions);
    if (mfaRequired && !principal.mfaEnabled) {
      await this.events.record(
        'permission_denied',
        'medium',
        eventContext(actor, { path, reason: 'mfa_enrollment_required' }),
      );
      throw new AppException('MFA_ENROLLMENT_REQUIRED', 'Enable two-factor authentication to perform this action');
    }
    const sensitive = this.meta<SensitiveKind>(SENSITIVE, context);
    if (sensitive) {
      const required =
        sensitive === 'account' ||
        (sensitive === 'delete' ? this.config.reauth.forDelete : this.config.reauth.forExport);
      if (required && this.clock.nowMs() - principal.authTime > this.config.reauth.windowMs) {
        await this.events.record(
          'permission_denied',
          'low',
          eventContext(actor, { path, reason: 'reauth_required', operation: sensitive }),
        );
        throw new AppException(
          'REAUTH_REQUIRED',
          'Confirm your password (POST /v1/auth/reauth) to perform this action',
        );
      }
    }
    return true;
  }
}
