import { Client } from 'pg';
import { type AppConfig, ConfigError } from '../config/app-config';
import { databaseSsl } from './data-source-options';

/** What the API's login may do beyond its grants: each of these defeats row-level security. */
export interface DatabaseRoleFacts {
  role: string;
  superuser: boolean;
  bypassRls: boolean;
  /** It may act as (is or can SET ROLE to) a superuser or BYPASSRLS role. */
  canBecomePrivileged: boolean;
  /** It may act as the owner of a table of the schema (owners are not held by row-level security). */
  ownsTables: boolean;
}

const FACTS_SQL = `
  SELECT current_user AS role, r.rolsuper AS superuser, r.rolbypassrls AS bypass_rls,
         EXISTS (SELECT 1 FROM pg_roles p
                  WHERE (p.rolsuper OR p.rolbypassrls) AND p.oid <> r.oid
                    AND pg_has_role(current_user, p.oid, 'MEMBER')) AS can_become_privileged,
         EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
                    AND pg_has_role(current_user, c.relowner, 'MEMBER')) AS owns_tables
    FROM pg_roles r WHERE r.rolname = current_user`;

export async function readDatabaseRole(client: Pick<Client, 'query'>): Promise<DatabaseRoleFacts> {
  const { rows } = await client.query<{
    role: string;
    superuser: boolean;
    bypass_rls: boolean;
    can_become_privileged: boolean;
    owns_tables: boolean;
  }>(FACTS_SQL);
  const row = rows[0]!;
  return {
    role: row.role,
    superuser: row.superuser,
    bypassRls: row.bypass_rls,
    canBecomePrivileged: row.can_become_privileged,
    ownsTables: row.owns_tables,
  };
}

/** Why this login must not run the API (empty when it may). */
export function databaseRoleProblems(facts: DatabaseRoleFacts): string[] {
  const problems: string[] = [];
  if (facts.superuser) problems.push('is a superuser');
  if (facts.bypassRls) problems.push('has BYPASSRLS');
  if (facts.canBecomePrivileged) problems.push('can SET ROLE to a superuser or BYPASSRLS role');
  if (facts.ownsTables) problems.push('owns (or can act as the owner of) the tables');
  return problems;
}

/**
 * The API's own login, checked after connecting. Production refuses a login that escapes row-level security
 * (naming DATABASE_URL); development and tests warn. Migrations use DATABASE_MIGRATION_URL (the owner).
 */
export async function checkDatabaseRole(
  config: AppConfig,
  url: string,
  warn: (message: string) => void,
): Promise<DatabaseRoleFacts> {
  const client = new Client({ connectionString: url, ssl: databaseSsl(config) });
  await client.connect();
  let facts: DatabaseRoleFacts;
  try {
    facts = await readDatabaseRole(client);
  } finally {
    await client.end().catch(() => undefined);
  }
  const problems = databaseRoleProblems(facts);
  if (problems.length) {
    const message =
      `the role "${facts.role}" ${problems.join(', ')}: an injected statement could escape row-level security. ` +
      'Connect the API as a role that is a member of app_api only (GRANT app_api TO <login>) and run migrations ' +
      'as the owner with DATABASE_MIGRATION_URL';
    if (config.isProduction) throw new ConfigError('DATABASE_URL', message);
    warn(`DATABASE_URL: ${message}`);
  }
  return facts;
}
