import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Extensions, the tenant role used for row-level security, teams, users and security events.
 *
 * `app_tenant` is a NOLOGIN role without BYPASSRLS. CRM transactions `SET LOCAL ROLE app_tenant` and set
 * `app.team_id`, so the policies on team tables hold even if a query forgets its team filter.
 */
export class Foundation1732300000000 implements MigrationInterface {
  name = 'Foundation1732300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);
    await q.query(`CREATE EXTENSION IF NOT EXISTS citext`);
    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await q.query(`
      DO $$
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_tenant') THEN
          CREATE ROLE app_tenant NOLOGIN NOBYPASSRLS;
        END IF;
      END $$`);
    await q.query(`GRANT app_tenant TO CURRENT_USER`);
    await q.query(`GRANT USAGE ON SCHEMA public TO app_tenant`);

    await q.query(`
      CREATE TABLE teams (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(200) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        email citext NOT NULL,
        password_hash text NOT NULL,
        first_name varchar(100) NOT NULL,
        last_name varchar(100) NOT NULL,
        role varchar(10) NOT NULL CHECK (role IN ('admin', 'agent', 'viewer')),
        failed_login_attempts int NOT NULL DEFAULT 0 CHECK (failed_login_attempts >= 0),
        locked_until timestamptz,
        disabled boolean NOT NULL DEFAULT false,
        mfa_enabled boolean NOT NULL DEFAULT false,
        password_changed_at timestamptz,
        last_login_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_email_unique UNIQUE (email)
      )`);
    await q.query(`CREATE INDEX users_team_id_idx ON users (team_id)`);

    await q.query(`
      CREATE TABLE security_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        event_type varchar(50) NOT NULL,
        severity varchar(10) NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
        team_id uuid REFERENCES teams(id) ON DELETE CASCADE,
        user_id uuid REFERENCES users(id) ON DELETE SET NULL,
        api_key_id uuid,
        ip_address varchar(64),
        user_agent text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX security_events_created_at_idx ON security_events (created_at)`);
    await q.query(`CREATE INDEX security_events_type_created_idx ON security_events (event_type, created_at)`);
    await q.query(`CREATE INDEX security_events_team_created_idx ON security_events (team_id, created_at)`);
    await q.query(`CREATE INDEX security_events_user_idx ON security_events (user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE security_events`);
    await q.query(`DROP TABLE users`);
    await q.query(`DROP TABLE teams`);
  }
}
