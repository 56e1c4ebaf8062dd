import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../../config/config.module';
import { AppConfig } from '../../config/app-config';
import { queryAffected } from '../../database/query-rows';
import { TeamScope } from '../../database/team-scope';
import { Clock } from '../../common/time/clock';
import { DataKeys } from '../data-keys/data-keys.service';
import { JobRuns } from '../../common/metrics/job-runs';
import { type IdempotencyCredentialKind } from './entities/idempotency-key.entity';

/** Whose key it is: keys are per team and per credential (a user or an API key), never shared. */
export interface IdempotencyScope {
  teamId: string;
  credentialKind: IdempotencyCredentialKind;
  credentialId: string;
  key: string;
}

export type ClaimOutcome =
  | { kind: 'claimed'; claimId: string }
  | { kind: 'replay'; statusCode: number; body: string; contentType: string | null; headers: Record<string, string> }
  | { kind: 'conflict'; reason: 'other-request' | 'in-progress' };

interface ExistingRow {
  fingerprint: string;
  state: 'in_progress' | 'completed';
  statusCode: number | null;
  body: string | null;
  contentType: string | null;
  headers: Record<string, string> | null;
}

/** A stored answer. */
export interface StoredAnswer {
  statusCode: number;
  body: string;
  contentType: string | null;
  headers: Record<string, string>;
}

const KEY_WHERE = 'team_id = $1 AND credential_kind = $2 AND credential_id = $3 AND idempotency_key = $4';
/** Rows deleted per statement by the purge, so a large backlog never holds one long transaction. */
const PURGE_BATCH = 5000;

/**
 * The idempotency_keys table: atomic claims, stored answers, expiry. Every request-path statement runs in
 * TeamScope (app_tenant, RLS on app.team_id); the purge runs as the owner across teams.
 */
@Injectable()
export class IdempotencyService {
  private readonly logger = new Logger(IdempotencyService.name);
  /**
   * Stored answers are sealed (DataKeys; they carry the team's records). A secret shown once (an API key, a webhook's
   * whsec_) is not kept at all: the interceptor stores such answers with the field null (@ShownOnceSecret).
   * The associated data binds an answer to its key's owner.
   */
  constructor(
    private readonly teamScope: TeamScope,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataKeys: DataKeys,
    private readonly clock: Clock,
    private readonly jobs: JobRuns,
  ) {}

  private static owner(scope: IdempotencyScope): string {
    return `idempotency:${scope.teamId}:${scope.credentialKind}:${scope.credentialId}:${scope.key}`;
  }

  /**
   * Claims the key for a request with this fingerprint, or says what to answer instead. The claim is one
   * INSERT … ON CONFLICT on the primary key: of any number of racing requests exactly one inserts (the others
   * wait for it to commit, then see its row). An expired row counts as absent and is taken over in the same
   * statement (DO UPDATE … WHERE expires_at <= now). "Now" is the Clock's, passed in, never the database's.
   */
  async claim(scope: IdempotencyScope, fingerprint: string): Promise<ClaimOutcome> {
    const keyParams = [scope.teamId, scope.credentialKind, scope.credentialId, scope.key];
    const ttlSeconds = this.config.idempotency.ttlMs / 1000;
    const now = this.clock.now();
    // A row seen in between can vanish (its request failed with a 5xx and released it): claim again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const [claimed = [], existing = []] = await this.teamScope.batch<Record<string, unknown>>(scope.teamId, [
        {
          sql: `INSERT INTO idempotency_keys (team_id, credential_kind, credential_id, idempotency_key, fingerprint, created_at, expires_at)
                VALUES ($1, $2, $3, $4, $5, $7::timestamptz, $7::timestamptz + make_interval(secs => $6))
                ON CONFLICT (team_id, credential_kind, credential_id, idempotency_key) DO UPDATE
                  SET fingerprint = EXCLUDED.fingerprint, claim_id = gen_random_uuid(), state = 'in_progress',
                      status_code = NULL, response_body = NULL, content_type = NULL, response_headers = NULL,
                      created_at = EXCLUDED.created_at,
                      completed_at = NULL, expires_at = EXCLUDED.expires_at
                  WHERE idempotency_keys.expires_at <= $7::timestamptz
                RETURNING claim_id AS "claimId"`,
          params: [...keyParams, fingerprint, ttlSeconds, now],
        },
        {
          sql: `SELECT fingerprint, state, status_code AS "statusCode", response_body AS body, content_type AS "contentType",
                       response_headers AS headers
                  FROM idempotency_keys WHERE ${KEY_WHERE} AND expires_at > $5::timestamptz`,
          params: [...keyParams, now],
        },
      ]);
      const mine = claimed[0] as { claimId: string } | undefined;
      if (mine) return { kind: 'claimed', claimId: mine.claimId };
      const row = existing[0] as ExistingRow | undefined;
      if (!row) continue;
      if (row.fingerprint !== fingerprint) return { kind: 'conflict', reason: 'other-request' };
      if (row.state !== 'completed' || row.statusCode === null || row.body === null)
        return { kind: 'conflict', reason: 'in-progress' };
      return {
        kind: 'replay',
        statusCode: Number(row.statusCode),
        body: this.dataKeys.open(row.body, IdempotencyService.owner(scope), {
          table: 'idempotency_keys',
          column: 'response_body',
          row: [scope.teamId, scope.credentialKind, scope.credentialId, scope.key].join('/'),
        }),
        contentType: row.contentType,
        headers: row.headers ?? {},
      };
    }
    return { kind: 'conflict', reason: 'in-progress' };
  }

  /** Stores the answer of a claimed request (before that answer leaves), so a retry replays it. */
  async complete(scope: IdempotencyScope, claimId: string, answer: StoredAnswer): Promise<void> {
    await this.teamScope.rows(scope.teamId, {
      sql: `UPDATE idempotency_keys
               SET state = 'completed', status_code = $6, response_body = $7, content_type = $8,
                   response_headers = $9::jsonb, completed_at = now()
             WHERE ${KEY_WHERE} AND claim_id = $5 AND state = 'in_progress'
         RETURNING 1`,
      params: [
        scope.teamId,
        scope.credentialKind,
        scope.credentialId,
        scope.key,
        claimId,
        answer.statusCode,
        this.dataKeys.seal(answer.body, IdempotencyService.owner(scope)),
        answer.contentType,
        JSON.stringify(answer.headers),
      ],
    });
  }

  /** Drops a claim whose request failed on the server's side (5xx): the same key may be tried again. */
  async release(scope: IdempotencyScope, claimId: string): Promise<void> {
    await this.teamScope.rows(scope.teamId, {
      sql: `DELETE FROM idempotency_keys WHERE ${KEY_WHERE} AND claim_id = $5 AND state = 'in_progress' RETURNING 1`,
      params: [scope.teamId, scope.credentialKind, scope.credentialId, scope.key, claimId],
    });
  }

  /** Deletes expired keys (every team). Expired rows are already ignored by `claim`; this keeps the table small. */
  @Cron(CronExpression.EVERY_10_MINUTES, { name: 'idempotency-keys-purge' })
  scheduledPurge(): Promise<number> {
    return this.jobs.run('idempotency-keys-purge', { cron: true }, () => this.purge());
  }

  async purge(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await queryAffected(
        this.dataSource.manager,
        `DELETE FROM idempotency_keys WHERE ctid IN
           (SELECT ctid FROM idempotency_keys WHERE expires_at <= $1 LIMIT ${PURGE_BATCH})`,
        [this.clock.now()],
      );
      total += deleted;
      if (deleted < PURGE_BATCH) break;
    }
    if (total) this.logger.log(`purged ${total} expired idempotency keys`);
    return total;
  }
}
