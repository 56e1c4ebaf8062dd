import { SealedValueError } from '../../common/security/secret-box';
import { randomBytes } from 'node:crypto';
import { type DataKeyRing, type InTransaction, type Sql, ensureKeyState, rowLabel, verifierAad } from './key-state';
import { KEYED_DIGESTS, SEALED_COLUMNS, type SealedColumn, describeLocation } from './sealed-columns';

export interface RotationOptions {
  /** Rows read and re-sealed per statement batch. */
  batchSize: number;
  /** Stop after re-sealing this many values (the rest is left for the next run). */
  limit?: number;
  log: (line: string) => void;
}

export interface RotationResult {
  resealed: number;
  /** Values that changed between read and write (the API wrote them meanwhile): left to the next pass. */
  skipped: number;
  /** Values no configured key opens: named, never touched. */
  unreadable: string[];
  /** Values still not sealed under the current key. */
  remaining: number;
  /** Whether the database now records only the current key (the previous ones may be removed). */
  completed: boolean;
}

/** The sealed values of a column that are not yet under the current key. */
function notCurrent(col: SealedColumn): string {
  return `${col.column} IS NOT NULL AND ${col.column} NOT LIKE $1`;
}

async function countRemaining(sql: Sql, prefix: string): Promise<number> {
  let total = 0;
  for (const col of SEALED_COLUMNS) {
    const [row] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${col.table} WHERE ${notCurrent(col)}`, [
      `${prefix}%`,
    ]);
    total += row?.n ?? 0;
  }
  return total;
}

/**
 * `npm run keys:rotate`: every sealed value not under the current key is opened with the ring and sealed
 * again under the current key, a batch at a time, each write a compare-and-swap on the old ciphertext (a
 * value the API changed meanwhile is left alone: the API sealed it under the current key, or the next run
 * takes it). Resumable: what is done is what carries the current key id, so a run interrupted anywhere
 * continues where it stopped. When nothing remains, the key state keeps only the current key's check.
 */
export async function rotateDataKeys(
  sql: Sql,
  transaction: InTransaction,
  ring: DataKeyRing,
  options: RotationOptions,
): Promise<RotationResult> {
  const { box } = ring;
  const started = await ensureKeyState(transaction, ring);
  if (started.change !== 'none') options.log(`key state: ${started.change}`);
  const prefix = `${box.currentPrefix}%`;
  const result: RotationResult = { resealed: 0, skipped: 0, unreadable: [], remaining: 0, completed: false };
  const budgetLeft = () => (options.limit === undefined ? Infinity : options.limit - result.resealed);

  walk: for (const col of SEALED_COLUMNS) {
    let after: unknown[] | null = null;
    let columnDone = 0;
    for (;;) {
      const take = Math.min(options.batchSize, budgetLeft());
      if (take <= 0) break walk;
      const keyList = col.key.join(', ');
      const params: unknown[] = [prefix];
      let cursor = '';
      if (after) {
        cursor = ` AND (${keyList}) > (${after.map((_, i) => `$${i + 2}`).join(', ')})`;
        params.push(...after);
      }
      const rows = await sql<Record<string, unknown> & { sealed: string; aad: string }>(
        `SELECT ${keyList}, ${col.column} AS sealed, ${col.aad} AS aad FROM ${col.table}
          WHERE ${notCurrent(col)}${cursor} ORDER BY ${keyList} LIMIT ${take}`,
        params,
      );
      if (!rows.length) break;
      for (const row of rows) {
        const where = { table: col.table, column: col.column, row: rowLabel(row, col.key) };
        let plaintext: string;
        try {
          plaintext = box.open(row.sealed, row.aad);
        } catch (err) {
          if (!(err instanceof SealedValueError)) throw err;
          result.unreadable.push(`${describeLocation(where)}: ${err.message}`);
          continue;
        }
        const keyParams = col.key.map((k) => row[k]);
        const swapped = await sql<{ one: number }>(
          `UPDATE ${col.table} SET ${col.column} = $1
            WHERE ${col.key.map((k, i) => `${k} = $${i + 3}`).join(' AND ')} AND ${col.column} = $2
        RETURNING 1 AS one`,
          [box.seal(plaintext, row.aad), row.sealed, ...keyParams],
        );
        if (swapped.length) {
          result.resealed++;
          columnDone++;
        } else result.skipped++;
      }
      const last = rows[rows.length - 1]!;
      after = col.key.map((k) => last[k]);
    }
    if (columnDone) options.log(`${col.table}.${col.column}: ${columnDone} value(s) re-sealed`);
  }

  result.remaining = await countRemaining(sql, box.currentPrefix);
  if (result.remaining === 0 && result.unreadable.length === 0) {
    result.completed = await transaction(async (tx) => {
      const [state] = await tx<{ key_checks: string[] }>(`SELECT key_checks FROM data_key_state FOR UPDATE`);
      // Counted again under the state's lock: an instance that started meanwhile with another key waits here.
      if (!state || (await countRemaining(tx, box.currentPrefix)) > 0) return false;
      await tx(`UPDATE data_key_state SET key_checks = $1, updated_at = now()`, [[box.currentCheck]]);
      return true;
    });
  }
  return result;
}

/**
 * `keys:rotate --renew-verifier-keys`: a fresh random HMAC key for every keyed-hash purpose, and the digests
 * made under the old one deleted (they could never match again). For a suspected compromise of the data key
 * together with the database: the old HMAC key (sealed under the old data key) is then known, and re-sealing
 * it would keep it. Backup codes are void; their owners make new ones (POST /v1/auth/2fa/backup-codes).
 */
export async function renewVerifierKeys(
  transaction: InTransaction,
  ring: DataKeyRing,
): Promise<Array<{ purpose: string; deleted: number; owners: number }>> {
  return transaction(async (sql) => {
    const out: Array<{ purpose: string; deleted: number; owners: number }> = [];
    for (const d of KEYED_DIGESTS) {
      await sql(
        `INSERT INTO data_verifier_keys (purpose, key_sealed) VALUES ($1, $2)
         ON CONFLICT (purpose) DO UPDATE SET key_sealed = EXCLUDED.key_sealed, created_at = now()`,
        [d.purpose, ring.box.seal(randomBytes(32).toString('base64'), verifierAad(d.purpose))],
      );
      const [gone] = await sql<{ deleted: number; owners: number }>(
        `WITH gone AS (DELETE FROM ${d.table} RETURNING ${d.owner} AS owner)
         SELECT count(*)::int AS deleted, count(DISTINCT owner)::int AS owners FROM gone`,
      );
      out.push({ purpose: d.purpose, deleted: gone?.deleted ?? 0, owners: gone?.owners ?? 0 });
    }
    return out;
  });
}
