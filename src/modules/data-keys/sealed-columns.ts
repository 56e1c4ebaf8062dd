/**
 * Every column that holds a value sealed with the data key, with how its associated data is made: the one
 * list the start-up check samples and `npm run keys:rotate` re-seals. A module that adds a sealed column adds
 * it here (test/data-keys.e2e-spec.ts fails for a `*_sealed` column missing from this list).
 *
 * The tables belong to their modules; keys:rotate is the one other writer, and it only replaces a sealed
 * value by the same plaintext under the current key, by compare-and-swap on the old ciphertext. The
 * associated data is spelled in SQL so the rotation needs no module code; each must equal what the owning
 * module passes to the box (the e2e test opens rotated values through the modules).
 */
export interface SealedColumn {
  table: string;
  column: string;
  /** The primary key, in the order rows are walked. */
  key: readonly string[];
  /** SQL expression of the associated data the value is bound to. */
  aad: string;
}

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  // MfaService: box.seal(secret, userId)
  { table: 'user_mfa', column: 'secret_sealed', key: ['user_id'], aad: `user_id::text` },
  { table: 'user_mfa', column: 'pending_secret_sealed', key: ['user_id'], aad: `user_id::text` },
  // WebhooksService: secretAad(teamId, webhookId)
  { table: 'webhooks', column: 'secret_sealed', key: ['id'], aad: `'webhook:' || team_id::text || ':' || id::text` },
  // IdempotencyService.owner(scope)
  {
    table: 'idempotency_keys',
    column: 'response_body',
    key: ['team_id', 'credential_kind', 'credential_id', 'idempotency_key'],
    aad: `'idempotency:' || team_id::text || ':' || credential_kind || ':' || credential_id::text || ':' || idempotency_key`,
  },
  // DataKeys: the HMAC keys of keyed hashes (backup codes)
  { table: 'data_verifier_keys', column: 'key_sealed', key: ['purpose'], aad: `'verifier-key:' || purpose` },
];

/**
 * Keyed-hash digests by purpose: what `keys:rotate --renew-verifier-keys` voids when it replaces a purpose's
 * HMAC key (after a suspected compromise of the data key and the database together).
 */
export const KEYED_DIGESTS: ReadonlyArray<{ purpose: string; table: string; owner: string }> = [
  // MfaService: backup codes, one row per code, owner user_id
  { purpose: 'backup-codes', table: 'mfa_backup_codes', owner: 'user_id' },
];

/** Where a sealed value lives, for the log line that names it. */
export interface SealedLocation {
  table: string;
  column: string;
  /** The row's primary key, its parts joined with `/`. */
  row: string;
}

export function describeLocation(where: SealedLocation): string {
  return `${where.table}.${where.column} row ${where.row}`;
}
