import { createHash } from 'node:crypto';
import { type AuditAction, type AuditResourceType, GENESIS_HASH, auditLinkHash } from './audit-chain';

/** Any way of running SQL that returns the rows (a pg Client, a pool, a TypeORM DataSource adapter). */
export type RowQuery = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;

export interface BrokenLink {
  teamId: string;
  /** Which of the team's chains. */
  lane: number;
  /** The sequence number where the chain first fails (the missing one, for a gap). */
  seq: string;
  /** The row at that link, when there is one. */
  rowId: string | null;
  reason: string;
}

export interface AuditVerification {
  ok: boolean;
  teams: number;
  rows: number;
  broken: BrokenLink[];
}

interface StoredLink {
  id: string;
  team_id: string;
  seq: string;
  action: AuditAction;
  resource_type: AuditResourceType;
  resource_id: string | null;
  user_id: string | null;
  api_key_id: string | null;
  ip_address: string | null;
  user_agent: string | null;
  old_values: unknown;
  new_values: unknown;
  prev_hash: string;
  hash: string;
  created_at: Date | string;
  hash_version: number;
  /** v2: what the audit_log_link trigger hashed (audit_link_material of the stored row). */
  material: string;
}

/** The hash a stored row should carry, by the version that linked it. */
function expectedHash(prevHash: string, row: StoredLink): string {
  if (row.hash_version === 2)
    return createHash('sha256')
      .update(prevHash + row.material, 'utf8')
      .digest('hex');
  // v1: linked by the application, over its canonical JSON of the row.
  const createdAt =
    row.created_at instanceof Date ? row.created_at.toISOString() : new Date(row.created_at).toISOString();
  return auditLinkHash(prevHash, {
    id: row.id,
    teamId: row.team_id,
    seq: row.seq,
    action: row.action,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    userId: row.user_id,
    apiKeyId: row.api_key_id,
    ip: row.ip_address,
    userAgent: row.user_agent,
    oldValues: row.old_values,
    newValues: row.new_values,
    createdAt,
  });
}

const BATCH = 2000;

/**
 * Walks each chain (a team has up to AUDIT_LANES lanes) in seq order and reports the first broken link per chain: a
 * row whose content no longer matches its hash (edited), a prev_hash that is not the previous row's hash
 * (re-hashed or reordered), a missing sequence number (deleted row), or a chain head that disagrees with
 * the last row (truncated end). Must run with a role that sees every team (the table owner), not as
 * app_tenant.
 */
export async function verifyAuditChains(
  query: RowQuery,
  options: { teamId?: string } = {},
): Promise<AuditVerification> {
  const chains = await query<{ team_id: string; lane: number }>(
    `SELECT team_id, lane FROM audit_chain_heads WHERE seq > 0 AND ($1::uuid IS NULL OR team_id = $1::uuid)
     UNION SELECT DISTINCT team_id, lane FROM audit_log WHERE $1::uuid IS NULL OR team_id = $1::uuid ORDER BY 1, 2`,
    [options.teamId ?? null],
  );
  const broken: BrokenLink[] = [];
  let rows = 0;

  for (const { team_id: teamId, lane } of chains) {
    const [head] = await query<{ seq: string; hash: string }>(
      `SELECT seq::text AS seq, hash FROM audit_chain_heads WHERE team_id = $1 AND lane = $2`,
      [teamId, lane],
    );
    let expectedSeq = 1n;
    let prevHash = GENESIS_HASH;
    let lastId: string | null = null;
    let failure: BrokenLink | null = null;

    walk: while (true) {
      const batch = await query<StoredLink>(
        `SELECT id, team_id, seq::text AS seq, action, resource_type, resource_id, user_id, api_key_id, ip_address, user_agent,
                old_values, new_values, prev_hash, hash, created_at, hash_version, audit_link_material(a) AS material
           FROM audit_log a WHERE team_id = $1 AND lane = $2 AND seq >= $3::bigint ORDER BY a.seq LIMIT ${BATCH}`,
        [teamId, lane, expectedSeq.toString()],
      );
      for (const row of batch) {
        rows++;
        if (BigInt(row.seq) !== expectedSeq) {
          failure = {
            teamId,
            lane,
            seq: expectedSeq.toString(),
            rowId: null,
            reason: `missing link: seq ${expectedSeq} is absent (next row is seq ${row.seq})`,
          };
          break walk;
        }
        if (row.prev_hash !== prevHash) {
          failure = { teamId, lane, seq: row.seq, rowId: row.id, reason: 'prev_hash does not match the previous link' };
          break walk;
        }
        if (expectedHash(prevHash, row) !== row.hash) {
          failure = {
            teamId,
            lane,
            seq: row.seq,
            rowId: row.id,
            reason: 'row content does not match its hash (edited)',
          };
          break walk;
        }
        prevHash = row.hash;
        lastId = row.id;
        expectedSeq++;
      }
      if (batch.length < BATCH) break;
    }

    const lastSeq = (expectedSeq - 1n).toString();
    if (!failure && !head && lastSeq !== '0') {
      failure = { teamId, lane, seq: lastSeq, rowId: lastId, reason: 'the chain has audit rows but no head' };
    } else if (!failure && head && (head.seq !== lastSeq || head.hash !== prevHash)) {
      failure = {
        teamId,
        lane,
        seq: head.seq,
        rowId: null,
        reason: `chain head says seq ${head.seq} but the last intact row is seq ${lastSeq} (rows removed or head altered)`,
      };
    }
    if (failure) broken.push(failure);
  }
  const teams = new Set(chains.map((c) => c.team_id)).size;
  return { ok: broken.length === 0, teams, rows, broken };
}
