import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** The CRM tables an activity or a task can be linked to, with their link column. */
const LINKS = [
  ['client_id', 'clients'],
  ['lead_id', 'leads'],
  ['listing_id', 'listings'],
  ['escrow_id', 'escrows'],
] as const;

/** A task's place on a timeline (and its index key): when it is due, else when it was created. */
export const TASK_TIMELINE_AT = 'coalesce(due_at, created_at)';

/** The dueAt sort key: tasks without a due date sort after every dated one (keyset needs a non-null key). */
export const TASK_DUE_SORT = `coalesce(due_at, '9999-12-31T00:00:00Z'::timestamptz)`;

/** The row-visibility condition of the activities and tasks policies (see the class comment). */
function visible(table: string): string {
  const linked = LINKS.map(
    ([column, target]) =>
      `(${table}.${column} IS NOT NULL AND EXISTS (SELECT 1 FROM ${target} l WHERE l.team_id = ${table}.team_id AND l.id = ${table}.${column}))`,
  ).join(' OR ');
  return `(${table}.deleted_at IS NULL OR current_setting('app.trash', true) = 'on') AND (crm_visible(${table}.assigned_to) OR ${linked})`;
}

/**
 * Activities (the log of calls, mails, notes, meetings and showings) and tasks (to-dos with a due date and an
 * assignee), both on the CRM pattern of 1733300000000: `assigned_to` (composite FK to users), `deleted_at`
 * (trash), `version`, the creator columns, a generated `search` column with a trigram index for `q`.
 *
 * Links to clients, leads, listings and escrows are composite foreign keys `(team_id, x_id) → x (team_id, id)`
 * ON DELETE RESTRICT, so a row never points into another team and no cascade changes rows without an audit
 * entry. An activity is always about something (CHECK: at least one link); a task may stand alone.
 *
 * A task's `completed_at` is kept by a trigger (set when the status becomes done, cleared when it leaves done),
 * so every write path (API, import) agrees with the CHECK tying the two together. `reminded_for_due_at` is the
 * reminder job's claim: the due date a reminder was sent for. Moving `due_at` clears it (same trigger), which
 * re-arms the reminder; the claim itself is one UPDATE … FOR UPDATE SKIP LOCKED, so several instances never
 * send one twice.
 *
 * Row-level security as on the CRM tables: the permissive `<table>_team_isolation` policy, and RESTRICTIVE
 * SELECT/UPDATE/DELETE policies: live (unless app.trash = 'on') and either `crm_visible(assigned_to)` or a
 * linked record the caller can see. The EXISTS subqueries run under the linked tables' own policies, so "can
 * see" means exactly what it means for those records (team visibility, assignment, trash).
 */
export class ActivitiesTasks1733300001000 implements MigrationInterface {
  name = 'ActivitiesTasks1733300001000';

  async up(q: QueryRunner): Promise<void> {
    const bookkeeping = `
        assigned_to uuid,
        created_by uuid,
        created_by_api_key uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz,
        version integer NOT NULL DEFAULT 1`;
    const links = LINKS.map(([column]) => `${column} uuid`).join(',\n        ');
    const foreignKeys = (table: string) =>
      [
        ...LINKS.map(
          ([column, target]) =>
            `CONSTRAINT ${table}_${column.replace(/_id$/, '')}_fk FOREIGN KEY (team_id, ${column}) REFERENCES ${target} (team_id, id) ON DELETE RESTRICT`,
        ),
        // NO ACTION, as on the CRM tables: removing a user first reassigns their rows with audit entries.
        `CONSTRAINT ${table}_assigned_to_fk FOREIGN KEY (team_id, assigned_to) REFERENCES users (team_id, id)`,
      ].join(',\n        ');

    await q.query(`
      CREATE TABLE activities (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        type varchar(10) NOT NULL CONSTRAINT activities_type_check
          CHECK (type IN ('note', 'call', 'email', 'text', 'meeting', 'showing')),
        subject varchar(200),
        body text CONSTRAINT activities_body_length CHECK (char_length(body) <= 10000),
        occurred_at timestamptz NOT NULL DEFAULT now(),
        duration_minutes integer CONSTRAINT activities_duration_range CHECK (duration_minutes BETWEEN 0 AND 100000),
        outcome varchar(200),
        ${links},${bookkeeping},
        search text GENERATED ALWAYS AS (
          lower(coalesce(subject, '') || ' ' || coalesce(outcome, '') || ' ' || coalesce(body, ''))
        ) STORED,
        CONSTRAINT activities_version_check CHECK (version > 0),
        CONSTRAINT activities_link_required CHECK (num_nonnulls(client_id, lead_id, listing_id, escrow_id) > 0),
        ${foreignKeys('activities')}
      )`);

    await q.query(`
      CREATE TABLE tasks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        title varchar(200) NOT NULL,
        due_at timestamptz,
        status varchar(10) NOT NULL DEFAULT 'open' CONSTRAINT tasks_status_check
          CHECK (status IN ('open', 'done', 'cancelled')),
        priority varchar(10) NOT NULL DEFAULT 'normal' CONSTRAINT tasks_priority_check
          CHECK (priority IN ('low', 'normal', 'high')),
        ${links},
        notes text CONSTRAINT tasks_notes_length CHECK (char_length(notes) <= 10000),
        completed_at timestamptz,
        reminded_for_due_at timestamptz,${bookkeeping},
        search text GENERATED ALWAYS AS (lower(title || ' ' || coalesce(notes, ''))) STORED,
        CONSTRAINT tasks_version_check CHECK (version > 0),
        CONSTRAINT tasks_completed_when_done CHECK ((status = 'done') = (completed_at IS NOT NULL)),
        ${foreignKeys('tasks')}
      )`);

    await q.query(`
      CREATE FUNCTION tasks_bookkeeping() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status <> 'done' THEN
          NEW.completed_at := NULL;
        ELSIF TG_OP = 'INSERT' OR OLD.status <> 'done' THEN
          NEW.completed_at := now();
        ELSE
          NEW.completed_at := OLD.completed_at;
        END IF;
        -- A moved due date is a new reminder, even when it moves back to one already reminded.
        IF TG_OP = 'UPDATE' AND NEW.due_at IS DISTINCT FROM OLD.due_at THEN
          NEW.reminded_for_due_at := NULL;
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER tasks_bookkeeping BEFORE INSERT OR UPDATE OF status, completed_at, due_at ON tasks
        FOR EACH ROW EXECUTE FUNCTION tasks_bookkeeping()`);

    for (const table of ['activities', 'tasks']) {
      // Lists: the default and updatedAt sorts, "mine", the trash, q.
      await q.query(`CREATE INDEX ${table}_team_created_idx ON ${table} (team_id, created_at DESC, id DESC)`);
      await q.query(`CREATE INDEX ${table}_team_updated_idx ON ${table} (team_id, updated_at DESC, id DESC)`);
      await q.query(
        `CREATE INDEX ${table}_team_assigned_created_idx ON ${table} (team_id, assigned_to, created_at DESC, id DESC)`,
      );
      await q.query(
        `CREATE INDEX ${table}_team_trash_idx ON ${table} (team_id, deleted_at DESC, id DESC) WHERE deleted_at IS NOT NULL`,
      );
      await q.query(`CREATE INDEX ${table}_search_trgm_idx ON ${table} USING gin (search gin_trgm_ops)`);
      // Timelines and the link filters: one record's entries, newest first; also the RESTRICT checks.
      const at = table === 'activities' ? 'occurred_at' : `(${TASK_TIMELINE_AT})`;
      for (const [column] of LINKS) {
        await q.query(
          `CREATE INDEX ${table}_team_${column.replace(/_id$/, '')}_idx ON ${table} (team_id, ${column}, ${at} DESC, id DESC) WHERE ${column} IS NOT NULL`,
        );
      }
    }
    await q.query(`CREATE INDEX activities_team_occurred_idx ON activities (team_id, occurred_at DESC, id DESC)`);
    await q.query(
      `CREATE INDEX activities_team_author_idx ON activities (team_id, created_by, occurred_at DESC, id DESC) WHERE created_by IS NOT NULL`,
    );
    await q.query(`CREATE INDEX tasks_team_due_idx ON tasks (team_id, (${TASK_DUE_SORT}), id)`);
    await q.query(`CREATE INDEX tasks_team_status_due_idx ON tasks (team_id, status, due_at)`);
    // The reminder job's scan: open, assigned, live tasks by due date (all teams).
    await q.query(
      `CREATE INDEX tasks_reminder_idx ON tasks (due_at) WHERE status = 'open' AND assigned_to IS NOT NULL AND deleted_at IS NULL AND due_at IS NOT NULL`,
    );

    for (const table of ['activities', 'tasks']) {
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`
        CREATE POLICY ${table}_team_isolation ON ${table} TO app_tenant
          USING (team_id = NULLIF(current_setting('app.team_id', true), '')::uuid)
          WITH CHECK (team_id = NULLIF(current_setting('app.team_id', true), '')::uuid)`);
      await q.query(`
        CREATE POLICY ${table}_visible_select ON ${table} AS RESTRICTIVE FOR SELECT TO app_tenant
          USING (${visible(table)})`);
      await q.query(`
        CREATE POLICY ${table}_visible_update ON ${table} AS RESTRICTIVE FOR UPDATE TO app_tenant
          USING (${visible(table)}) WITH CHECK (true)`);
      await q.query(`
        CREATE POLICY ${table}_visible_delete ON ${table} AS RESTRICTIVE FOR DELETE TO app_tenant
          USING (${visible(table)})`);
      await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO app_tenant`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE tasks`);
    await q.query(`DROP FUNCTION tasks_bookkeeping()`);
    await q.query(`DROP TABLE activities`);
  }
}
