import { createHash } from 'node:crypto';
import { type CrmAuditType, crmCatalogue } from '../../common/resources/crm-catalogue';

export const AUDIT_ACTIONS = ['CREATE', 'UPDATE', 'DELETE', 'RESTORE', 'PURGE'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Audited records that are not CRM resources. */
const OTHER_RESOURCE_TYPES = ['user', 'api_key', 'webhook', 'team'] as const;

/** Every audit resource type: each CRM resource's (from the catalogue), then the others. */
export const AUDIT_RESOURCE_TYPES: readonly string[] = crmCatalogue.derivedList((entries) => [
  ...entries.map((e) => e.auditType),
  ...OTHER_RESOURCE_TYPES,
]);
export type AuditResourceType = CrmAuditType | (typeof OTHER_RESOURCE_TYPES)[number];

/**
 * Hash chains per team: a copy of the number migration 1733100000000 fixed in its CHECK constraint (migrations
 * are frozen, runtime code keeps its own copy; test/schema-constants.e2e-spec.ts checks they agree).
 */
export const AUDIT_LANES = 16;

/** The prev_hash of each team's first row. */
export const GENESIS_HASH = '0'.repeat(64);

/** Everything a link's hash covers: the whole row except the hashes themselves. */
export interface AuditLinkFields {
  id: string;
  teamId: string;
  seq: string;
  action: AuditAction;
  resourceType: AuditResourceType;
  resourceId: string | null;
  userId: string | null;
  apiKeyId: string | null;
  ip: string | null;
  userAgent: string | null;
  oldValues: unknown;
  newValues: unknown;
  /** ISO-8601 with milliseconds, as JavaScript prints it. */
  createdAt: string;
}

/**
 * JSON with object keys sorted at every level and no whitespace, so the same data always hashes the same
 * way, whatever order jsonb hands the keys back in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (typeof value === 'object') {
    const entries = Object.keys(value as Record<string, unknown>)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value);
}

/** hash = sha256(prev_hash || canonical JSON of the row), hex. */
export function auditLinkHash(prevHash: string, fields: AuditLinkFields): string {
  const material: AuditLinkFields = {
    id: fields.id,
    teamId: fields.teamId,
    seq: String(fields.seq),
    action: fields.action,
    resourceType: fields.resourceType,
    resourceId: fields.resourceId ?? null,
    userId: fields.userId ?? null,
    apiKeyId: fields.apiKeyId ?? null,
    ip: fields.ip ?? null,
    userAgent: fields.userAgent ?? null,
    oldValues: fields.oldValues ?? null,
    newValues: fields.newValues ?? null,
    createdAt: fields.createdAt,
  };
  return createHash('sha256').update(prevHash).update(canonicalJson(material)).digest('hex');
}
