import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig, MAX_API_KEY_LIFETIME_DAYS } from '../../config/app-config';
import { AppException } from '../../common/http/app.exception';
import { Actor, ApiKeyPrincipal, UserPrincipal } from '../../common/security/principal';
import { Clock } from '../../common/time/clock';
import { CacheInvalidation } from '../../database/cache-invalidation';
import { oneRow, queryRows } from '../../database/query-rows';
import { TeamScope } from '../../database/team-scope';
import { AuditService } from '../audit/audit.service';
import { MfaService } from '../mfa/mfa.service';
import { SecurityEventsService, eventContext } from '../security-events/security-events.service';
import { ApiKeyUsage } from './api-key-usage.service';
import { CreateApiKeyDto } from './dto/api-key.dto';
import { ipAllowed, normaliseIpRule } from './ip-allow-list';

const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** `hk_` + 8 characters: what the key starts with, stored in clear and indexed. */
const PREFIX_LENGTH = 11;
const LOOKUP_CACHE_MS = 5_000;
const DAY_MS = 86_400_000;

/** A key as listed and audited (no hash). */
type StoredKey = Parameters<typeof publicKey>[0];
const STORED_KEY_COLUMNS =
  'id, name, prefix, scopes, allowed_ips, expires_at, revoked_at, last_used_at, created_by, created_at';

interface KeyRow {
  id: string;
  team_id: string;
  name: string;
  key_hash: string;
  scopes: string[];
  allowed_ips: string[];
  expires_at: Date;
  revoked_at: Date | null;
  created_by: string | null;
}

export function publicKey(k: {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  allowed_ips: string[];
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
  created_by: string | null;
  created_at: Date;
}) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    allowedIps: k.allowed_ips,
    expiresAt: k.expires_at.toISOString(),
    revokedAt: k.revoked_at?.toISOString() ?? null,
    lastUsedAt: k.last_used_at?.toISOString() ?? null,
    createdBy: k.created_by,
    createdAt: k.created_at.toISOString(),
  };
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function newPrefix(): string {
  const bytes = randomBytes(8);
  return `hk_${[...bytes].map((b) => PREFIX_ALPHABET[b % PREFIX_ALPHABET.length]).join('')}`;
}

/**
 * API keys: created by admins with 2FA (and a fresh code), shown once, stored as sha256, found by prefix in
 * one indexed lookup (cached a few seconds), compared in constant time, refused when revoked, expired or
 * used from outside their IP allow-list.
 */
@Injectable()
export class ApiKeysService {
  /**
   * prefix → key row, for LOOKUP_CACHE_MS (less while the invalidation listener is down). A revocation on any instance
   * clears the prefix everywhere through CacheInvalidation ('apiKey'); the TTL is only the safety net.
   */
  private readonly cache = new Map<string, { at: number; row: KeyRow | null }>();
  /** Bumped by every invalidation: a lookup that raced one does not store what it read. */
  private epoch = 0;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly teamScope: TeamScope,
    private readonly audit: AuditService,
    private readonly mfa: MfaService,
    private readonly events: SecurityEventsService,
    private readonly usage: ApiKeyUsage,
    private readonly invalidation: CacheInvalidation,
    private readonly clock: Clock,
  ) {
    invalidation.subscribe('apiKey', (prefix) => {
      this.epoch++;
      if (prefix === null) this.cache.clear();
      else this.cache.delete(prefix);
    });
  }

  private expiryFrom(input: CreateApiKeyDto): Date {
    if (input.expiresAt && input.expiresInDays)
      throw AppException.validation('Give expiresAt or expiresInDays, not both', [
        { field: 'expiresAt', errors: ['choose one'] },
      ]);
    const now = this.clock.nowMs();
    if (input.expiresAt) {
      const at = new Date(input.expiresAt).getTime();
      if (at <= now)
        throw AppException.validation('expiresAt must be in the future', [
          { field: 'expiresAt', errors: ['must be in the future'] },
        ]);
      if (at > now + MAX_API_KEY_LIFETIME_DAYS * DAY_MS) {
        const message = `expiresAt must be within ${MAX_API_KEY_LIFETIME_DAYS} days`;
        throw AppException.validation(message, [{ field: 'expiresAt', errors: [message] }]);
      }
      return new Date(at);
    }
    return new Date(now + (input.expiresInDays ?? this.config.apiKeys.defaultExpiryDays) * DAY_MS);
  }

  async create(principal: UserPrincipal, input: CreateApiKeyDto, actor: Actor) {
    const allowedIps = (input.allowedIps ?? []).map((rule) => {
      const normalised = normaliseIpRule(rule);
      if (!normalised)
        throw AppException.validation(`"${rule}" is not an IP address or CIDR`, [
          { field: 'allowedIps', errors: [`"${rule}" is not an IP address or CIDR`] },
        ]);
      return normalised;
    });
    const expiresAt = this.expiryFrom(input);
    // Counted toward the account's lock like every other prompt (423 while it holds).
    await this.mfa.confirmCode(principal, input.otp, actor, 'api-key-create');

    const prefix = newPrefix();
    const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
    const scopes = [...new Set(input.scopes)];
    const created = await this.teamScope.run(principal.teamId, async (m) => {
      const inserted = await queryRows<StoredKey>(
        m,
        `INSERT INTO api_keys (team_id, name, prefix, key_hash, scopes, allowed_ips, expires_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         RETURNING ${STORED_KEY_COLUMNS}`,
        [
          principal.teamId,
          input.name,
          prefix,
          sha256(key).toString('hex'),
          scopes,
          allowedIps,
          expiresAt,
          principal.userId,
        ],
      );
      const row = oneRow(inserted, 'api key insert');
      const shown = publicKey(row);
      await this.audit.record(m, actor, {
        action: 'CREATE',
        resourceType: 'api_key',
        resourceId: row.id,
        oldValues: null,
        newValues: shown,
      });
      return shown;
    });
    await this.events.record(
      'api_key_created',
      'medium',
      eventContext(actor, {
        apiKeyId: created.id,
        name: created.name,
        scopes,
        allowedIps,
        expiresAt: created.expiresAt,
      }),
    );
    return { ...created, key };
  }

  async list(teamId: string) {
    return this.teamScope.run(teamId, async (m) => {
      const rows = await queryRows<StoredKey>(
        m,
        `SELECT ${STORED_KEY_COLUMNS} FROM api_keys WHERE team_id = $1 ORDER BY created_at DESC`,
        [teamId],
      );
      return rows.map((r) => {
        const pending = this.usage.lastUsed(r.id);
        return publicKey({
          ...r,
          last_used_at: pending && (!r.last_used_at || pending > r.last_used_at) ? pending : r.last_used_at,
        });
      });
    });
  }

  async revoke(principal: UserPrincipal, id: string, actor: Actor) {
    const revoked = await this.teamScope.run(principal.teamId, async (m) => {
      const [old] = await queryRows<StoredKey>(
        m,
        `SELECT ${STORED_KEY_COLUMNS} FROM api_keys WHERE id = $1 AND team_id = $2 FOR UPDATE`,
        [id, principal.teamId],
      );
      if (!old) throw AppException.notFound('API key');
      if (old.revoked_at) throw AppException.conflict('This API key is already revoked');
      const row = oneRow(
        await queryRows<StoredKey>(
          m,
          `UPDATE api_keys SET revoked_at = now() WHERE id = $1 RETURNING ${STORED_KEY_COLUMNS}`,
          [id],
        ),
        'api key revoke',
      );
      await this.audit.record(m, actor, {
        action: 'DELETE',
        resourceType: 'api_key',
        resourceId: id,
        oldValues: publicKey(old),
        newValues: publicKey(row),
      });
      // Every instance drops the prefix from its cache when this commits (this one also at once).
      await this.invalidation.publish('apiKey', row.prefix, m);
      return row;
    });
    await this.events.record('api_key_revoked', 'medium', eventContext(actor, { apiKeyId: id, name: revoked.name }));
    return publicKey(revoked);
  }

  private async lookup(prefix: string): Promise<KeyRow | null> {
    const now = Date.now();
    const hit = this.cache.get(prefix);
    if (hit && now - hit.at < LOOKUP_CACHE_MS && this.invalidation.servable(hit.at, now)) return hit.row;
    const epoch = this.epoch;
    const [row] = await queryRows<KeyRow>(
      this.dataSource.manager,
      `SELECT id, team_id, name, key_hash, scopes, allowed_ips, expires_at, revoked_at, created_by FROM api_keys WHERE prefix = $1`,
      [prefix],
    );
    // An invalidation that arrived while the query ran may concern what it read: use it once, keep nothing.
    if (epoch !== this.epoch) return row ?? null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(prefix, { at: now, row: row ?? null });
    return row ?? null;
  }

  /** The strategy's check: a principal, false for an unknown/revoked key, or the contract's error. */
  async authenticate(presented: string, ip: string, userAgent: string | null): Promise<ApiKeyPrincipal | false> {
    if (presented.length < PREFIX_LENGTH + 20 || presented.length > 200 || presented[PREFIX_LENGTH] !== '_')
      return false;
    const row = await this.lookup(presented.slice(0, PREFIX_LENGTH));
    if (!row) return false;
    if (!timingSafeEqual(sha256(presented), Buffer.from(row.key_hash, 'hex'))) return false;
    if (row.revoked_at) return false;
    const ctx = { ip, userAgent, teamId: row.team_id, apiKeyId: row.id };
    if (row.expires_at.getTime() <= this.clock.nowMs()) {
      await this.events.record('api_key_expired', 'medium', {
        ...ctx,
        details: { name: row.name, expiredAt: row.expires_at.toISOString() },
      });
      throw new AppException('API_KEY_EXPIRED', 'This API key has expired; create a new one');
    }
    if (!ipAllowed(ip, row.allowed_ips)) {
      await this.events.record('ip_not_allowed', 'high', {
        ...ctx,
        details: { name: row.name, allowedIps: row.allowed_ips },
      });
      throw new AppException('IP_NOT_ALLOWED', `This API key cannot be used from ${ip}`);
    }
    this.usage.recordUse(row.id, row.team_id, ip, userAgent);
    return {
      kind: 'apiKey',
      apiKeyId: row.id,
      teamId: row.team_id,
      scopes: row.scopes,
      name: row.name,
      createdBy: row.created_by,
    };
  }
}
