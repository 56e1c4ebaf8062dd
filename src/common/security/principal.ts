export const ROLES = ['admin', 'agent', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const CRM_RESOURCES = [
  'clients',
  'leads',
  'appointments',
  'escrows',
  'listings',
  'activities',
  'tasks',
] as const;
export type CrmResource = (typeof CRM_RESOURCES)[number];
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
  agent: (resource) => (CRM_RESOURCES as readonly string[]).includes(resource),
  viewer: (resource, action) => (CRM_RESOURCES as readonly string[]).includes(resource) && action === 'read',
};

export function roleAllows(role: Role, resource: PermissionResource, action: Action): boolean {
  return ROLE_GRANTS[role](resource, action);
}

/** `clients:read`, `*:read`, `clients:*` and `*:*` style scopes. */
export function scopesAllow(scopes: string[], resource: PermissionResource, action: Action): boolean {
  // Keys are for CRM data only: a wildcard never reaches users, audit, security or key management.
  if (!(CRM_RESOURCES as readonly string[]).includes(resource)) return false;
  return scopes.some((scope) => {
    const [r, a] = scope.split(':');
    return (r === resource || r === '*') && (a === action || a === '*');
  });
}

export const VALID_SCOPE = new RegExp(`^(${[...CRM_RESOURCES, '\\*'].join('|')}):(${[...ACTIONS, '\\*'].join('|')})$`);
