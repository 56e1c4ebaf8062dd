import { randomBytes } from 'node:crypto';
import { KeyedVerifier } from '../../common/security/keyed-verifier';
import { SealedValueError, SecretBox, keyCheck } from '../../common/security/secret-box';
import { SEALED_COLUMNS, type SealedLocation, describeLocation } from './sealed-columns';

/** Raw SQL returning rows: the app (TypeORM) and the keys:rotate script (pg) each provide one. */
export type Sql = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;

/** Runs `work` in one transaction. */
export type InTransaction = <T>(work: (sql: Sql) => Promise<T>) => Promise<T>;

/** The configured keys: the current one first, then DATA_ENCRYPTION_KEY_PREVIOUS. */
export interface DataKeyRing {
  box: SecretBox;
  keys: readonly Buffer[];
}

export function dataKeyRing(current: Buffer, previous: readonly Buffer[]): DataKeyRing {
  return { box: new SecretBox(current, previous), keys: [current, ...previous] };
}

/** Serialises the first recording of the key state between instances starting together. */
const KEY_STATE_LOCK = 7_243_111;
/** Values per sealed column tried at the first start, to find which configured key sealed them. */
const SAMPLE_PER_COLUMN = 20;
/** Keyed-hash purposes whose digests predate stored verifier keys: their key starts as HKDF of the data key. */
const LEGACY_VERIFIER_PURPOSES = ['backup-codes'] as const;

/** An instance whose data keys do not fit the database: it must not start (the message names the variable). */
export class DataKeyMismatchError extends Error {
  readonly variable = 'DATA_ENCRYPTION_KEY';
  constructor(message: string) {
    super(`DATA_ENCRYPTION_KEY: ${message}`);
    this.name = 'DataKeyMismatchError';
  }
}

const short = (check: string) => check.slice(0, 8);

export function verifierAad(purpose: string): string {
  return `verifier-key:${purpose}`;
}

export function rowLabel(row: Record<string, unknown>, key: readonly string[]): string {
  return key.map((k) => String(row[k])).join('/');
}

/** Why this ring cannot serve the recorded state, or null when it can (all recorded keys present, current among them). */
export function ringProblem(recorded: readonly string[], box: SecretBox, allowNewCurrent: boolean): string | null {
  const missing = recorded.filter((c) => !box.checks.includes(c));
  if (missing.length) {
    const mine = box.checks.map((c) => `${short(c)}…`).join(', ');
    const [only] = recorded;
    return recorded.length === 1 && only !== undefined
      ? `the stored secrets were sealed with another key (key check ${short(only)}…; this instance has ${mine}). ` +
          'Give this instance the key the others use; to rotate, set the new key as DATA_ENCRYPTION_KEY and the old ' +
          'one in DATA_ENCRYPTION_KEY_PREVIOUS (docs/data-keys.md)'
      : `the stored secrets are sealed with keys this instance does not have (key check ${missing.map(short).join(', ')}…; ` +
          `this instance has ${mine}): a rotation is in progress or finished. Set DATA_ENCRYPTION_KEY to the ` +
          'current key and keep the others in DATA_ENCRYPTION_KEY_PREVIOUS until `npm run keys:rotate` has finished';
  }
  if (!allowNewCurrent && !recorded.includes(box.currentCheck))
    return (
      `this instance seals with a key (check ${short(box.currentCheck)}…) the database no longer accepts: ` +
      '`npm run keys:rotate` finished with another key as DATA_ENCRYPTION_KEY'
    );
  return null;
}

interface Sampled {
  openedBy: Map<string, string[]>;
  unreadable: string[];
}

/** A few values of every sealed column, opened with the ring: which keys seal them, and what opens with none. */
async function sample(sql: Sql, box: SecretBox): Promise<Sampled> {
  const openedBy = new Map<string, string[]>();
  const unreadable: string[] = [];
  for (const col of SEALED_COLUMNS) {
    const rows = await sql<Record<string, unknown> & { sealed: string; aad: string }>(
      `SELECT ${col.key.join(', ')}, ${col.column} AS sealed, ${col.aad} AS aad FROM ${col.table}
        WHERE ${col.column} IS NOT NULL LIMIT ${SAMPLE_PER_COLUMN}`,
    );
    for (const row of rows) {
      const where: SealedLocation = { table: col.table, column: col.column, row: rowLabel(row, col.key) };
      try {
        const { check } = box.openWithCheck(row.sealed, row.aad);
        openedBy.set(col.table, [...(openedBy.get(col.table) ?? []), check]);
      } catch (err) {
        if (!(err instanceof SealedValueError)) throw err;
        unreadable.push(`${describeLocation(where)}: ${err.message}`);
      }
    }
  }
  return { openedBy, unreadable };
}

export interface KeyStateOutcome {
  /** The key checks the database accepts now. */
  checks: string[];
  /** What was done: nothing, the first recording, or a rotation begun (the current key's check added). */
  change: 'none' | 'recorded' | 'rotation-started';
}

/**
 * The start-up check: records the key state at the first start (after making sure the stored values open
 * with this ring), or checks the ring against it, adding the current key's check when the ring holds every
 * recorded key (a rotation begins). Throws DataKeyMismatchError when this instance must not start.
 */
export async function ensureKeyState(transaction: InTransaction, ring: DataKeyRing): Promise<KeyStateOutcome> {
  const { box } = ring;
  return transaction(async (sql) => {
    await sql('SELECT pg_advisory_xact_lock($1)', [KEY_STATE_LOCK]);
    const [state] = await sql<{ key_checks: string[] }>(`SELECT key_checks FROM data_key_state FOR UPDATE`);
    if (state) {
      const problem = ringProblem(state.key_checks, box, true);
      if (problem) throw new DataKeyMismatchError(problem);
      if (state.key_checks.includes(box.currentCheck)) return { checks: state.key_checks, change: 'none' };
      const checks = [...state.key_checks, box.currentCheck];
      await sql(`UPDATE data_key_state SET key_checks = $1, updated_at = now()`, [checks]);
      return { checks, change: 'rotation-started' };
    }
    const sampled = await sample(sql, box);
    if (sampled.unreadable.length)
      throw new DataKeyMismatchError(
        `the stored secrets were sealed with another key: ${sampled.unreadable.slice(0, 3).join('; ')}`,
      );
    const used = new Set([...sampled.openedBy.values()].flat());
    const checks = [box.currentCheck, ...box.checks.filter((c) => c !== box.currentCheck && used.has(c))];
    await sql(`INSERT INTO data_key_state (key_checks) VALUES ($1)`, [checks]);
    // Backup codes were hashed under HKDF of the key that sealed the TOTP secrets of the same time.
    const legacyCheck = sampled.openedBy.get('user_mfa')?.[0] ?? box.currentCheck;
    const legacyKey = ring.keys.find((k) => keyCheck(k) === legacyCheck) ?? ring.keys[0]!;
    for (const purpose of LEGACY_VERIFIER_PURPOSES)
      await sql(`INSERT INTO data_verifier_keys (purpose, key_sealed) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
        purpose,
        box.seal(KeyedVerifier.keyFromDataKey(legacyKey, purpose).toString('base64'), verifierAad(purpose)),
      ]);
    return { checks, change: 'recorded' };
  });
}

/** The recorded key checks (empty before the first start). */
export async function recordedChecks(sql: Sql): Promise<string[]> {
  const [state] = await sql<{ key_checks: string[] }>(`SELECT key_checks FROM data_key_state`);
  return state?.key_checks ?? [];
}

/** The stored HMAC key of a keyed-hash purpose, created (random) at its first use. Still sealed. */
export async function sealedVerifierKey(sql: Sql, box: SecretBox, purpose: string): Promise<string> {
  const read = () =>
    sql<{ key_sealed: string }>(`SELECT key_sealed FROM data_verifier_keys WHERE purpose = $1`, [purpose]);
  const [existing] = await read();
  if (existing) return existing.key_sealed;
  await sql(`INSERT INTO data_verifier_keys (purpose, key_sealed) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
    purpose,
    box.seal(randomBytes(32).toString('base64'), verifierAad(purpose)),
  ]);
  const [created] = await read();
  if (!created) throw new Error(`data_verifier_keys: no key for ${purpose} after creating it`);
  return created.key_sealed;
}
