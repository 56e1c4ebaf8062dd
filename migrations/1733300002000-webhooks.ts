import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** The channel the dispatcher LISTENs on; a delivery insert notifies it at commit. */
const WEBHOOK_CHANNEL = 'hearth_webhooks';

/**
 * Outgoing webhooks: the hooks (`webhooks`), the transactional outbox (`webhook_events`, written in the
 * statement of the change it reports) and one delivery per event and hook (`webhook_deliveries`, the
 * dispatcher's queue).
 *
 * - The hook's signing secret is stored sealed (AES-256-GCM under DATA_ENCRYPTION_KEY, bound to the hook and
 *   team), never in clear.
 * - `failing_since`: when the current run of consecutive failed attempts began (NULL after a success); a
 *   hook failing for 24 h is deactivated.
 * - Deliveries reference their hook and event with composite (team_id, id) keys, so a row can never point
 *   at another team's hook or event; deleting a hook deletes its deliveries.
 * - The dispatcher claims due rows with FOR UPDATE SKIP LOCKED over the partial index on pending rows.
 * - A statement inserting deliveries notifies `hearth_webhooks` (once per statement, delivered at commit,
 *   never for a rollback), so a dispatcher picks the event up at once instead of at its next poll.
 * - Audit rows of hooks use resource type `webhook` (allowed by the crm-core migration's check).
 * - RLS for `app_tenant` as on every team table: the outbox rows are inserted inside tenant-scoped
 *   statements (the CRM change itself), so the tenant role may read hooks and insert events and deliveries.
 */
export class Webhooks1733300002000 implements MigrationInterface {
  name = 'Webhooks1733300002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhooks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        url varchar(2048) NOT NULL,
        description varchar(500),
        events text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 100),
        active boolean NOT NULL DEFAULT true,
        secret_sealed text NOT NULL,
        failing_since timestamptz,
        deactivated_at timestamptz,
        created_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT webhooks_team_id_id_key UNIQUE (team_id, id)
      )`);
    // The outbox CTE asks "does this team have an active hook wanting this type?" on every audited change.
    await q.query(`CREATE INDEX webhooks_team_active_idx ON webhooks (team_id) WHERE active`);
    await q.query(`CREATE INDEX webhooks_team_created_idx ON webhooks (team_id, created_at DESC, id DESC)`);

    await q.query(`
      CREATE TABLE webhook_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        type varchar(60) NOT NULL,
        data jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT webhook_events_team_id_id_key UNIQUE (team_id, id)
      )`);
    await q.query(`CREATE INDEX webhook_events_team_created_idx ON webhook_events (team_id, created_at)`);

    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        webhook_id uuid NOT NULL,
        event_id uuid NOT NULL,
        status varchar(10) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        last_status_code integer,
        last_error varchar(1200),
        last_attempt_at timestamptz,
        next_attempt_at timestamptz DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT webhook_deliveries_webhook_fk FOREIGN KEY (team_id, webhook_id) REFERENCES webhooks (team_id, id) ON DELETE CASCADE,
        CONSTRAINT webhook_deliveries_event_fk FOREIGN KEY (team_id, event_id) REFERENCES webhook_events (team_id, id) ON DELETE CASCADE,
        CONSTRAINT webhook_deliveries_pending_due CHECK (status <> 'pending' OR next_attempt_at IS NOT NULL)
      )`);
    await q.query(
      `CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`,
    );
    await q.query(
      `CREATE INDEX webhook_deliveries_hook_created_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC)`,
    );
    await q.query(`CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (team_id, event_id)`);

    await q.query(`
      CREATE FUNCTION webhook_deliveries_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM inserted) THEN
          PERFORM pg_notify('${WEBHOOK_CHANNEL}', '');
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER webhook_deliveries_notify AFTER INSERT ON webhook_deliveries
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION webhook_deliveries_notify()`);

    for (const table of ['webhooks', 'webhook_events', 'webhook_deliveries']) {
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`
        CREATE POLICY ${table}_team_isolation ON ${table} TO app_tenant
          USING (team_id = NULLIF(current_setting('app.team_id', true), '')::uuid)
          WITH CHECK (team_id = NULLIF(current_setting('app.team_id', true), '')::uuid)`);
    }
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON webhooks TO app_tenant`);
    await q.query(`GRANT SELECT, INSERT ON webhook_events TO app_tenant`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON webhook_deliveries TO app_tenant`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP FUNCTION webhook_deliveries_notify()`);
    await q.query(`DROP TABLE webhook_events`);
    await q.query(`DROP TABLE webhooks`);
  }
}
