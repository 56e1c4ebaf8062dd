import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** The shared IP blocklist fed by honeypots. */
export class SecurityOperations1732300009000 implements MigrationInterface {
  name = 'SecurityOperations1732300009000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ip_blocklist (
        ip varchar(64) PRIMARY KEY,
        reason varchar(200) NOT NULL,
        blocked_until timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX ip_blocklist_until_idx ON ip_blocklist (blocked_until)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ip_blocklist`);
  }
}
