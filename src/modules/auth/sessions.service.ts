import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { CacheInvalidation } from '../../database/cache-invalidation';
import { oneRow, queryRows } from '../../database/query-rows';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { Role } from '../../common/security/principal';
import { Clock } from '../../common/time/clock';
import { randomToken, sha256Hex } from './token.service';

export interface LiveSession {
  userId: string;
  teamId: string;
  role: Role;
  email: string;
  mfaEnabled: boolean;
}

export interface NewSession {
  sessionId: string;
  refreshToken: string;
  authenticatedAt: Date;
}

export interface SessionOrigin {
  ip: string;
  userAgent: string | null;
  device: string;
  fingerprint: string;
}

export interface RotatedSession {
  sessionId: string;
  userId: string;
  teamId: string;
  role: Role;
  authenticatedAt: Date;
  /** The successor token (the same one when rotation is off). */
  refreshToken: string;
}

/** Why a refresh token was refused: decided from what the database knows about it. */
export type RefreshRefusal =
  | { kind: 'unknown' }
  | {
      kind: 'dead-session';
      sessionId: string;
      userId: string;
      teamId: string;
      reason: 'revoked' | 'expired' | 'idle' | 'absolute' | 'disabled';
    }
  | { kind: 'predecessor-in-grace'; sessionId: string; userId: string; teamId: string }
  | { kind: 'reuse'; sessionId: string; userId: string; teamId: string };

const SESSION_CACHE_MS = 2_000;

/**
 * Sessions and their refresh tokens. Rotation is one compare-and-swap statement, so however many refreshes
 * race on one token exactly one wins; every rotated-away hash is kept to recognise reuse.
 */
@Injectable()
export class SessionsService {
  /**
   * sid → live session facts, briefly: every authenticated request needs them. `until` is when the session
   * reaches its absolute lifetime (an entry never outlives it). Revocations on any instance clear entries
   * through CacheInvalidation ('session' by id, 'user' by user id); the TTL is only the safety net.
   */
  private readonly cache = new Map<string, { at: number; until: number; value: LiveSession | null }>();
  /** Bumped by every invalidation: a lookup that raced one does not store what it read. */
  private epoch = 0;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly invalidation: CacheInvalidation,
    private readonly clock: Clock,
  ) {
    invalidation.subscribe('session', (id) => (id === null ? this.forgetAll() : this.forget([id])));
    invalidation.subscribe('user', (id) => (id === null ? this.forgetAll() : this.forgetUserLocally(id)));
  }

  private expiryFor(createdAt: Date, now: Date): Date {
    const byLifetime = now.getTime() + this.config.jwt.refreshTtlSeconds * 1000;
    const byAbsolute = createdAt.getTime() + this.config.sessions.absoluteMs;
    return new Date(Math.min(byLifetime, byAbsolute));
  }

  async create(
    userId: string,
    teamId: string,
    origin: SessionOrigin,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<NewSession> {
    const now = this.clock.now();
    const refreshToken = randomToken();
    const rows = await queryRows<{ id: string }>(
      manager,
      `INSERT INTO sessions (user_id, team_id, token_hash, authenticated_at, created_at, last_used_at, expires_at, ip, user_agent, device, fingerprint)
       VALUES ($1, $2, $3, $4, $4, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [
        userId,
        teamId,
        sha256Hex(refreshToken),
        now,
        this.expiryFor(now, now),
        origin.ip,
        origin.userAgent,
        origin.device,
        origin.fingerprint,
      ],
    );
    return { sessionId: oneRow(rows, 'session insert').id, refreshToken, authenticatedAt: now };
  }

  /**
   * The session behind an access token, if it may still be used. Cached ~2 s (less while the invalidation
   * listener is down); revocation on any instance clears it within milliseconds (here at once).
   */
  async liveSession(sessionId: string): Promise<LiveSession | null> {
    // The cache ages in real time (like the invalidation listener it trusts); the session's limits follow the clock.
    const fetchedAt = Date.now();
    const now = this.clock.nowMs();
    const hit = this.cache.get(sessionId);
    if (hit && fetchedAt - hit.at < SESSION_CACHE_MS && this.invalidation.servable(hit.at, fetchedAt))
      return now < hit.until ? hit.value : null;
    const epoch = this.epoch;
    const [row] = await queryRows<{
      user_id: string;
      team_id: string;
      role: Role;
      email: string;
      mfa_enabled: boolean;
      created_at: Date;
    }>(
      this.dataSource.manager,
      `SELECT s.user_id, s.team_id, u.role, u.email, u.mfa_enabled, s.created_at
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = $1 AND s.revoked_at IS NULL AND s.created_at > $2 AND NOT u.disabled`,
      [sessionId, new Date(now - this.config.sessions.absoluteMs)],
    );
    const value = row
      ? { userId: row.user_id, teamId: row.team_id, role: row.role, email: row.email, mfaEnabled: row.mfa_enabled }
      : null;
    // An invalidation that arrived while the query ran may concern what it read: use it once, keep nothing.
    if (epoch !== this.epoch) return value;
    if (this.cache.size > 50_000) this.cache.clear();
    const until = row ? row.created_at.getTime() + this.config.sessions.absoluteMs : Number.POSITIVE_INFINITY;
    this.cache.set(sessionId, { at: fetchedAt, until, value });
    return value;
  }

  /** Drops these sessions from this instance's cache (other instances: see `revokeWhere`). */
  forget(sessionIds: string[]): void {
    this.epoch++;
    for (const id of sessionIds) this.cache.delete(id);
  }

  /**
   * After a change to what principals carry (role, 2FA, disabled): drop every cached session of the user, here
   * at once and on the other instances (a notification through the pool: callers call this after their change
   * is committed; a change made in a transaction also reaches them at commit through `revokeAllForUser`).
   */
  forgetUser(userId: string): void {
    this.forgetUserLocally(userId);
    void this.invalidation.publish('user', userId);
  }

  private forgetUserLocally(userId: string): void {
    this.epoch++;
    for (const [id, entry] of this.cache) if (entry.value?.userId === userId) this.cache.delete(id);
  }

  private forgetAll(): void {
    this.epoch++;
    this.cache.clear();
  }

  /** Compare-and-swap on the live token's hash; null when the token is not the live one of a usable session. */
  async rotate(presented: string): Promise<RotatedSession | null> {
    const now = this.clock.now();
    const oldHash = sha256Hex(presented);
    const rotate = this.config.sessions.rotation;
    const next = rotate ? randomToken() : presented;
    const rows = await queryRows<{ id: string; user_id: string; team_id: string; role: Role; authenticated_at: Date }>(
      this.dataSource.manager,
      `WITH swapped AS (
         UPDATE sessions s
            SET token_hash = $2,
                previous_token_hash = CASE WHEN $2 = $1 THEN s.previous_token_hash ELSE $1 END,
                rotated_at = CASE WHEN $2 = $1 THEN s.rotated_at ELSE $3 END,
                last_used_at = $3,
                expires_at = LEAST($3::timestamptz + make_interval(secs => $4), s.created_at + make_interval(secs => $5))
           FROM users u
          WHERE s.token_hash = $1 AND u.id = s.user_id AND NOT u.disabled
            AND s.revoked_at IS NULL AND s.expires_at > $3
            AND s.last_used_at > $3::timestamptz - make_interval(secs => $6)
            AND s.created_at > $3::timestamptz - make_interval(secs => $5)
          RETURNING s.id, s.user_id, s.team_id, u.role, s.authenticated_at
       ), retired AS (
         INSERT INTO used_refresh_tokens (token_hash, session_id, user_id, retired_at)
         SELECT $1, id, user_id, $3 FROM swapped WHERE $2 <> $1
       )
       SELECT * FROM swapped`,
      [
        oldHash,
        sha256Hex(next),
        now,
        this.config.jwt.refreshTtlSeconds,
        this.config.sessions.absoluteMs / 1000,
        this.config.sessions.inactivityMs / 1000,
      ],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      sessionId: row.id,
      userId: row.user_id,
      teamId: row.team_id,
      role: row.role,
      authenticatedAt: row.authenticated_at,
      refreshToken: next,
    };
  }

  /** After a failed rotation: what was this token? */
  async diagnose(presented: string): Promise<RefreshRefusal> {
    const hash = sha256Hex(presented);
    const now = this.clock.nowMs();
    const [live] = await queryRows<{
      id: string;
      user_id: string;
      team_id: string;
      revoked_at: Date | null;
      expires_at: Date;
      last_used_at: Date;
      created_at: Date;
      disabled: boolean;
    }>(
      this.dataSource.manager,
      `SELECT s.id, s.user_id, s.team_id, s.revoked_at, s.expires_at, s.last_used_at, s.created_at, u.disabled
           FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`,
      [hash],
    );
    if (live) {
      const reason = live.revoked_at
        ? 'revoked'
        : live.disabled
          ? 'disabled'
          : now - live.created_at.getTime() >= this.config.sessions.absoluteMs
            ? 'absolute'
            : now - live.last_used_at.getTime() >= this.config.sessions.inactivityMs
              ? 'idle'
              : 'expired';
      return { kind: 'dead-session', sessionId: live.id, userId: live.user_id, teamId: live.team_id, reason };
    }
    const [parent] = await queryRows<{
      id: string;
      user_id: string;
      team_id: string;
      rotated_at: Date | null;
      revoked_at: Date | null;
    }>(
      this.dataSource.manager,
      `SELECT id, user_id, team_id, rotated_at, revoked_at FROM sessions WHERE previous_token_hash = $1`,
      [hash],
    );
    if (parent) {
      const withinGrace =
        parent.rotated_at !== null &&
        now - parent.rotated_at.getTime() <= this.config.sessions.reuseGraceSeconds * 1000;
      if (withinGrace && !parent.revoked_at)
        return { kind: 'predecessor-in-grace', sessionId: parent.id, userId: parent.user_id, teamId: parent.team_id };
      return { kind: 'reuse', sessionId: parent.id, userId: parent.user_id, teamId: parent.team_id };
    }
    const [used] = await queryRows<{ session_id: string; user_id: string; team_id: string }>(
      this.dataSource.manager,
      `SELECT r.session_id, r.user_id, s.team_id FROM used_refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.token_hash = $1`,
      [hash],
    );
    if (used) return { kind: 'reuse', sessionId: used.session_id, userId: used.user_id, teamId: used.team_id };
    return { kind: 'unknown' };
  }

  async fingerprintOf(
    presented: string,
  ): Promise<{ sessionId: string; userId: string; teamId: string; fingerprint: string | null } | null> {
    const [row] = await queryRows<{ id: string; user_id: string; team_id: string; fingerprint: string | null }>(
      this.dataSource.manager,
      `SELECT id, user_id, team_id, fingerprint FROM sessions WHERE token_hash = $1 AND revoked_at IS NULL`,
      [sha256Hex(presented)],
    );
    return row ? { sessionId: row.id, userId: row.user_id, teamId: row.team_id, fingerprint: row.fingerprint } : null;
  }

  /**
   * Revokes, then tells every instance to drop the revoked sessions from its cache: by user id for `forUser`
   * (every session of that user, and what its principals carry), else by session id. Inside the caller's
   * transaction the notification is delivered at commit; this instance drops them at once either way.
   */
  private async revokeWhere(
    where: string,
    params: unknown[],
    reason: string,
    manager: EntityManager = this.dataSource.manager,
    forUser?: string,
  ): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(
      manager,
      `UPDATE sessions SET revoked_at = $${params.length + 2}, revoked_reason = $${params.length + 1}
        WHERE ${where} AND revoked_at IS NULL RETURNING id`,
      [...params, reason, this.clock.now()],
    );
    const ids = rows.map((r) => r.id);
    this.forget(ids);
    if (forUser !== undefined) await this.invalidation.publish('user', forUser, manager);
    else for (const id of ids) await this.invalidation.publish('session', id, manager);
    return ids;
  }

  /** Revokes the session holding this refresh token; returns whose it was (for the logout event), or null. */
  async revokeByToken(
    presented: string,
    reason: string,
  ): Promise<{ sessionId: string; userId: string; teamId: string } | null> {
    const owner = await this.fingerprintOf(presented);
    if (!owner) return null;
    const ids = await this.revokeWhere('id = $1 AND token_hash = $2', [owner.sessionId, sha256Hex(presented)], reason);
    return ids.length ? { sessionId: owner.sessionId, userId: owner.userId, teamId: owner.teamId } : null;
  }

  revokeSession(sessionId: string, reason: string, userId?: string): Promise<string[]> {
    return userId
      ? this.revokeWhere('id = $1 AND user_id = $2', [sessionId, userId], reason)
      : this.revokeWhere('id = $1', [sessionId], reason);
  }

  revokeAllForUser(
    userId: string,
    reason: string,
    exceptSessionId?: string,
    manager?: EntityManager,
  ): Promise<string[]> {
    // Published by user id even when nothing was live: users admin revokes here on a role change or disable,
    // and the other instances must drop what they cached about the user's principals.
    return exceptSessionId
      ? this.revokeWhere('user_id = $1 AND id <> $2', [userId, exceptSessionId], reason, manager, userId)
      : this.revokeWhere('user_id = $1', [userId], reason, manager, userId);
  }

  async markAuthenticated(sessionId: string): Promise<Date> {
    const now = this.clock.now();
    await queryRows(
      this.dataSource.manager,
      `UPDATE sessions SET authenticated_at = $2, last_used_at = $2 WHERE id = $1`,
      [sessionId, now],
    );
    return now;
  }

  async listLive(userId: string) {
    const now = this.clock.nowMs();
    const rows = await queryRows<{
      id: string;
      device: string | null;
      ip: string | null;
      user_agent: string | null;
      created_at: Date;
      last_used_at: Date;
    }>(
      this.dataSource.manager,
      `SELECT id, device, ip, user_agent, created_at, last_used_at FROM sessions
        WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND created_at > $3 AND last_used_at > $4
        ORDER BY last_used_at DESC`,
      [
        userId,
        new Date(now),
        new Date(now - this.config.sessions.absoluteMs),
        new Date(now - this.config.sessions.inactivityMs),
      ],
    );
    return rows;
  }
}
