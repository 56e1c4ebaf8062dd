import { type CrmResource, crmCatalogue } from '../resources/crm-catalogue';

export { type CrmResource } from '../resources/crm-catalogue';

export const ROLES = ['admin', 'agent', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** The CRM resources (from the catalogue the CRM module registers): what agents work on and API keys reach. */
export const CRM_RESOURCES: readonly string[] = crmCatalogue.derivedList((entries) => entries.map((e) => e.resource));
/** Everything a route can declare a permission on; only CRM resources can be granted to API keys. */
export type PermissionResource = CrmResource | 'users' | 'api_keys' | 'audit' | 'security' | 'webhooks' | 'team';
export const ACTIONS = ['read', 'write', 'delete'] as const;
export type Action = (typeof ACTIONS)[number];

/** A signed-in person, from a Bearer access token whose session is still live. */
export interface UserPrincipal {
  kind: 'user';
  userId: string;
  teamId: string;
  role: Role;
  email: string;
  sessionId: string;
  /** When the password was last entered for this token (ms since epoch): drives re-auth. */
  authTime: number;
  mfaEnabled: boolean;
}

/** An integration, from an X-API-Key header. */
export interface ApiKeyPrincipal {
  kind: 'apiKey';
  apiKeyId: string;
  teamId: string;
  scopes: string[];
  name: string;
  createdBy: string | null;
}

export type Principal = UserPrincipal | ApiKeyPrincipal;

/** Who did something, from where: what audit rows and security events record. */
export interface Actor {
  principal?: Principal;
  ip: string;
  userAgent: string | null;
}

export function actorUserId(actor: Actor): string | null {
  return actor.principal?.kind === 'user' ? actor.principal.userId : null;
}

export function actorApiKeyId(actor: Actor): string | null {
  return actor.principal?.kind === 'apiKey' ? actor.principal.apiKeyId : null;
}

const ROLE_GRANTS: Record<Role, (resource: PermissionResource, action: Action) => boolean> = {
  admin: () => true,
  agent: (resource) => crmCatalogue.has(resource),
  viewer: (resource, action) => crmCatalogue.has(resource) && action === 'read',
};

export function roleAllows(role: Role, resource: PermissionResource, action: Action): boolean {
  return ROLE_GRANTS[role](resource, action);
}

/** `clients:read`, `*:read`, `clients:*` and `*:*` style scopes. */
export function scopesAllow(scopes: string[], resource: string, action: Action): boolean {
  // Keys are for CRM data only: a wildcard never reaches users, audit, security or key management.
  if (!crmCatalogue.has(resource)) return false;
  return scopes.some((scope) => {
    const [r, a] = scope.split(':');
    return (r === resource || r === '*') && (a === action || a === '*');
  });
}

/** Every scope a key can be given: `<resource>:<action>` with `*` for either part. */
export const API_KEY_SCOPES: readonly string[] = crmCatalogue.derivedList((entries) =>
  [...entries.map((e) => e.resource), '*'].flatMap((r) => [...ACTIONS, '*'].map((a) => `${r}:${a}`)),
);

export function isValidScope(scope: unknown): boolean {
  return typeof scope === 'string' && API_KEY_SCOPES.includes(scope);
}
