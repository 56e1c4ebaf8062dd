import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Which data keys the stored secrets are sealed with (owned by the data-keys module; docs/data-keys.md).
 *
 * - `data_key_state`: one row, `key_checks` = the check values (HMAC of a fixed label under the key) of every
 *   key a sealed value in this database may use. Recorded at the first start (the key then is checked
 *   against a sample of the stored values); an instance whose DATA_ENCRYPTION_KEY (+ _PREVIOUS) does not
 *   cover it refuses to start. A start with a new current key and the recorded one as previous adds the new
 *   check (a rotation begins); `npm run keys:rotate` leaves only the current key's check once nothing is
 *   sealed under another key.
 * - `data_verifier_keys`: the HMAC key of each keyed-hash purpose (backup codes), sealed under the data key,
 *   so that rotating the data key re-seals it and the stored digests stay valid.
 *
 * Neither table holds team data: no team_id, no RLS.
 */
export class DataKeyChecks1733400002900 implements MigrationInterface {
  name = 'DataKeyChecks1733400002900';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE data_key_state (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        key_checks text[] NOT NULL CHECK (cardinality(key_checks) >= 1),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE data_verifier_keys (
        purpose varchar(64) PRIMARY KEY,
        key_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE data_verifier_keys`);
    await q.query(`DROP TABLE data_key_state`);
  }
}
