import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The five CRM tables: clients, leads, appointments, escrows, listings.
 *
 * Every table: `team_id NOT NULL` with an index `(team_id, created_at DESC, id DESC)` that matches the default
 * list ORDER BY exactly (and, scanned backwards, the ascending sort), CHECK constraints for enums, money as
 * numeric(14,2), a generated lowercase `search` column with a pg_trgm GIN index for `q` (ILIKE), and
 * `UNIQUE (team_id, id)` so that references between CRM rows are composite foreign keys
 * `(team_id, client_id) → clients (team_id, id)`: a row can never point at another team's row, even through a
 * bug. References are ON DELETE RESTRICT: a cascade or SET NULL would change rows without an audit entry.
 *
 * Row-level security (the second wall behind each query's own team filter): the policies apply to the
 * `app_tenant` role that TeamScope switches to, keyed on the per-transaction `app.team_id` setting.
 */
export class CrmResources1732400000000 implements MigrationInterface {
  name = 'CrmResources1732400000000';

  async up(q: QueryRunner): Promise<void> {
    const system = `
        created_by uuid,
        created_by_api_key uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()`;

    await q.query(`
      CREATE TABLE clients (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        first_name varchar(100) NOT NULL,
        last_name varchar(100) NOT NULL,
        email varchar(254),
        phone varchar(40),
        client_type varchar(10) CHECK (client_type IN ('buyer', 'seller', 'both', 'investor', 'renter')),
        status varchar(10) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'archived')),
        notes text CHECK (char_length(notes) <= 10000),
        address varchar(500),
        lead_id uuid,${system},
        search text GENERATED ALWAYS AS (
          lower(first_name || ' ' || last_name || ' ' || coalesce(email, '') || ' ' || coalesce(phone, '') || ' ' || coalesce(address, ''))
        ) STORED,
        CONSTRAINT clients_team_id_id_key UNIQUE (team_id, id)
      )`);
    await q.query(`CREATE INDEX clients_team_created_idx ON clients (team_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX clients_team_updated_idx ON clients (team_id, updated_at DESC, id DESC)`);
    await q.query(`CREATE INDEX clients_team_last_name_idx ON clients (team_id, last_name, id)`);
    await q.query(`CREATE INDEX clients_search_trgm_idx ON clients USING gin (search gin_trgm_ops)`);
    // A lead converts into at most one client (the service checks first; this holds under races).
    await q.query(`CREATE UNIQUE INDEX clients_lead_id_key ON clients (lead_id) WHERE lead_id IS NOT NULL`);

    await q.query(`
      CREATE TABLE leads (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        first_name varchar(100) NOT NULL,
        last_name varchar(100) NOT NULL,
        email varchar(254),
        phone varchar(40),
        lead_type varchar(10) CHECK (lead_type IN ('buyer', 'seller', 'investor', 'renter')),
        lead_status varchar(10) NOT NULL DEFAULT 'new' CHECK (lead_status IN ('new', 'contacted', 'qualified', 'converted', 'lost')),
        source varchar(100),
        notes text CHECK (char_length(notes) <= 10000),
        converted_client_id uuid,
        converted_at timestamptz,${system},
        search text GENERATED ALWAYS AS (
          lower(first_name || ' ' || last_name || ' ' || coalesce(email, '') || ' ' || coalesce(phone, '') || ' ' || coalesce(source, ''))
        ) STORED,
        CONSTRAINT leads_team_id_id_key UNIQUE (team_id, id)
      )`);
    await q.query(`CREATE INDEX leads_team_created_idx ON leads (team_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX leads_team_updated_idx ON leads (team_id, updated_at DESC, id DESC)`);
    await q.query(`CREATE INDEX leads_team_last_name_idx ON leads (team_id, last_name, id)`);
    await q.query(`CREATE INDEX leads_team_status_idx ON leads (team_id, lead_status, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX leads_search_trgm_idx ON leads USING gin (search gin_trgm_ops)`);

    await q.query(`
      CREATE TABLE listings (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        address varchar(500) NOT NULL,
        city varchar(100),
        state varchar(50),
        zip varchar(20),
        price numeric(14, 2) CHECK (price >= 0),
        bedrooms smallint CHECK (bedrooms BETWEEN 0 AND 1000),
        bathrooms numeric(5, 1) CHECK (bathrooms BETWEEN 0 AND 1000),
        square_feet integer CHECK (square_feet > 0),
        status varchar(10) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'pending', 'sold', 'withdrawn')),
        mls_number varchar(50),${system},
        search text GENERATED ALWAYS AS (
          lower(address || ' ' || coalesce(city, '') || ' ' || coalesce(state, '') || ' ' || coalesce(zip, '') || ' ' || coalesce(mls_number, ''))
        ) STORED,
        CONSTRAINT listings_team_id_id_key UNIQUE (team_id, id)
      )`);
    await q.query(`CREATE INDEX listings_team_created_idx ON listings (team_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX listings_team_updated_idx ON listings (team_id, updated_at DESC, id DESC)`);
    // The price sort orders unpriced listings first (as -1): keyset pagination needs a non-null key.
    await q.query(`CREATE INDEX listings_team_price_idx ON listings (team_id, (coalesce(price, -1)), id)`);
    await q.query(`CREATE INDEX listings_team_city_idx ON listings (team_id, lower(city))`);
    await q.query(
      `CREATE UNIQUE INDEX listings_team_mls_key ON listings (team_id, mls_number) WHERE mls_number IS NOT NULL`,
    );
    await q.query(`CREATE INDEX listings_search_trgm_idx ON listings USING gin (search gin_trgm_ops)`);

    await q.query(`
      CREATE TABLE appointments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        title varchar(200) NOT NULL,
        starts_at timestamptz NOT NULL,
        ends_at timestamptz,
        location varchar(500),
        status varchar(10) NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'completed', 'cancelled')),
        client_id uuid,
        lead_id uuid,
        notes text CHECK (char_length(notes) <= 10000),${system},
        search text GENERATED ALWAYS AS (lower(title || ' ' || coalesce(location, ''))) STORED,
        CONSTRAINT appointments_team_id_id_key UNIQUE (team_id, id),
        CONSTRAINT appointments_ends_after_starts CHECK (ends_at IS NULL OR ends_at >= starts_at),
        CONSTRAINT appointments_client_fk FOREIGN KEY (team_id, client_id) REFERENCES clients (team_id, id) ON DELETE RESTRICT,
        CONSTRAINT appointments_lead_fk FOREIGN KEY (team_id, lead_id) REFERENCES leads (team_id, id) ON DELETE RESTRICT
      )`);
    await q.query(`CREATE INDEX appointments_team_created_idx ON appointments (team_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX appointments_team_updated_idx ON appointments (team_id, updated_at DESC, id DESC)`);
    await q.query(`CREATE INDEX appointments_team_starts_idx ON appointments (team_id, starts_at, id)`);
    await q.query(
      `CREATE INDEX appointments_team_client_idx ON appointments (team_id, client_id) WHERE client_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX appointments_team_lead_idx ON appointments (team_id, lead_id) WHERE lead_id IS NOT NULL`,
    );
    await q.query(`CREATE INDEX appointments_search_trgm_idx ON appointments USING gin (search gin_trgm_ops)`);

    await q.query(`
      CREATE TABLE escrows (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        property_address varchar(500) NOT NULL,
        escrow_number varchar(100),
        purchase_price numeric(14, 2) CHECK (purchase_price >= 0),
        status varchar(10) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'pending', 'closed', 'cancelled')),
        opened_at date,
        closing_date date,
        client_id uuid,
        listing_id uuid,${system},
        search text GENERATED ALWAYS AS (lower(property_address || ' ' || coalesce(escrow_number, ''))) STORED,
        CONSTRAINT escrows_team_id_id_key UNIQUE (team_id, id),
        CONSTRAINT escrows_closing_after_opening CHECK (closing_date IS NULL OR opened_at IS NULL OR closing_date >= opened_at),
        CONSTRAINT escrows_client_fk FOREIGN KEY (team_id, client_id) REFERENCES clients (team_id, id) ON DELETE RESTRICT,
        CONSTRAINT escrows_listing_fk FOREIGN KEY (team_id, listing_id) REFERENCES listings (team_id, id) ON DELETE RESTRICT
      )`);
    await q.query(`CREATE INDEX escrows_team_created_idx ON escrows (team_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX escrows_team_updated_idx ON escrows (team_id, updated_at DESC, id DESC)`);
    await q.query(`CREATE INDEX escrows_team_client_idx ON escrows (team_id, client_id) WHERE client_id IS NOT NULL`);
    await q.query(
      `CREATE INDEX escrows_team_listing_idx ON escrows (team_id, listing_id) WHERE listing_id IS NOT NULL`,
    );
    await q.query(
      `CREATE UNIQUE INDEX escrows_team_number_key ON escrows (team_id, escrow_number) WHERE escrow_number IS NOT NULL`,
    );
    await q.query(`CREATE INDEX escrows_search_trgm_idx ON escrows USING gin (search gin_trgm_ops)`);

    for (const table of ['clients', 'leads', 'listings', 'appointments', 'escrows']) {
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`
        CREATE POLICY ${table}_team_isolation ON ${table} TO app_tenant
          USING (team_id = NULLIF(current_setting('app.team_id', true), '')::uuid)
          WITH CHECK (team_id = NULLIF(current_setting('app.team_id', true), '')::uuid)`);
      await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO app_tenant`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE escrows`);
    await q.query(`DROP TABLE appointments`);
    await q.query(`DROP TABLE listings`);
    await q.query(`DROP TABLE leads`);
    await q.query(`DROP TABLE clients`);
  }
}
