import { type Actor } from './principal';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * The kinds of security event; the `security_events.event_type` values, the API's filter and (through
 * /console/config.json) the console's, in this order: related kinds side by side.
 */
export const SECURITY_EVENT_TYPES = [
  'login_success',
  'login_failed',
  'account_locked',
  'lockout_attempt_while_locked',
  'multiple_failed_logins',
  'token_refreshed',
  'token_theft_detected',
  'permission_denied',
  'insufficient_scope',
  'ip_not_allowed',
  'api_key_expired',
  'api_key_created',
  'api_key_revoked',
  'api_key_usage_spike',
  'mfa_enabled',
  'mfa_disabled',
  'mfa_failed',
  'mfa_reset',
  'password_changed',
  'password_reset',
  'password_reset_requested',
  'new_device_login',
  'device_mismatch',
  'session_revoked',
  'logout',
  'account_unlocked',
  'webhook_created',
  'webhook_deactivated',
  'geo_anomaly_detected',
  'honeypot_triggered',
  'ip_blocked',
  'data_export',
  'data_export_large',
  'rate_limited',
] as const;
export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

export interface SecurityEventContext {
  ip?: string | null;
  userAgent?: string | null;
  userId?: string | null;
  teamId?: string | null;
  apiKeyId?: string | null;
  details?: Record<string, unknown>;
}

/** Context for an event from the request's actor (user or API key), plus details. */
export function eventContext(actor: Actor, details?: Record<string, unknown>): SecurityEventContext {
  const p = actor.principal;
  return {
    ip: actor.ip,
    userAgent: actor.userAgent,
    teamId: p?.teamId ?? null,
    userId: p?.kind === 'user' ? p.userId : null,
    apiKeyId: p?.kind === 'apiKey' ? p.apiKeyId : null,
    details,
  };
}

/**
 * Where the cross-cutting guards (authorization, rate limits) report security events. SecurityEventsModule
 * provides the implementation; common code depends only on this abstraction, so it imports no feature module.
 * Recording never fails the request that caused it.
 */
export abstract class SecurityEventSink {
  abstract record(type: SecurityEventType, severity: Severity, ctx: SecurityEventContext): Promise<unknown>;
}
