import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { SnakeNamingStrategy } from 'typeorm-naming-strategies';
import { CRM_CATALOGUE } from '../crm-catalogue';
import * as statements from './crm-statements';
import { type CrmTable, crmTable } from './crm-table';

/**
 * The SQL the generic CRM resource runs, as generated-SQL snapshots (crm-statements.spec.ts.snap, committed):
 * a change to a builder shows up as a diff of the statements themselves. The tables are built from the real
 * entities (TypeORM metadata, no connection).
 */
const TEAM = '11111111-1111-4111-8111-111111111111';
const ID = '22222222-2222-4222-8222-222222222222';
const USER = '33333333-3333-4333-8333-333333333333';
const OTHER = '44444444-4444-4444-8444-444444444444';
const KEY = '55555555-5555-4555-8555-555555555555';

const tables = new Map<string, CrmTable>();

function table(resource: string): CrmTable {
  const found = tables.get(resource);
  if (!found) throw new Error(`no table ${resource}`);
  return found;
}

/** Whitespace runs folded, so a snapshot is about the SQL, not its indentation. */
function tidy(s: { sql: string; params: readonly unknown[]; audit?: unknown }) {
  return { sql: s.sql.replace(/\s+/g, ' ').trim(), params: s.params, ...(s.audit ? { audit: s.audit } : {}) };
}

beforeAll(async () => {
  // The application's naming strategy (src/database/data-source-options.ts): snake_case columns.
  const dataSource = new DataSource({
    type: 'postgres',
    entities: CRM_CATALOGUE.map((e) => e.definition.entity),
    namingStrategy: new SnakeNamingStrategy(),
  });
  await (dataSource as unknown as { buildMetadatas(): Promise<void> }).buildMetadatas();
  for (const entry of CRM_CATALOGUE) {
    const metadata = dataSource.getMetadata(entry.definition.entity);
    // Activities add their author aliases (ActivitiesService.extraSelect).
    const extra =
      entry.definition.resource === 'activities'
        ? { select: `"created_by" AS "authorId", "created_by_api_key" AS "apiKeyId"`, fields: ['authorId', 'apiKeyId'] }
        : undefined;
    tables.set(entry.definition.resource, crmTable(entry.definition, metadata.columns, extra));
  }
});

describe('CRM statement builders', () => {
  it('list: a page with filters, search, an assignee and the default sort', () => {
    const page = statements.pageStatement(
      table('clients'),
      TEAM,
      { status: 'active', q: 'Lovelace', assignedTo: USER, limit: 25 },
      25,
    );
    expect(tidy(page.statement)).toMatchSnapshot();
  });

  it('list: an agent under visibility rules, sorted by a key of the resource, no search fence for a short term', () => {
    const page = statements.pageStatement(
      table('listings'),
      TEAM,
      { sort: 'price', q: 'ab', minPrice: '100000' },
      10,
      USER,
    );
    expect(tidy(page.statement)).toMatchSnapshot();
  });

  it('list: the capped count beside the page', () => {
    expect(
      tidy(statements.countStatement(table('tasks'), TEAM, { overdue: 'true', assignedTo: 'none' }, 10000)),
    ).toMatchSnapshot();
  });

  it('list: an unknown sort key is a 400, before any SQL', () => {
    expect(() => statements.pageStatement(table('clients'), TEAM, { sort: 'password' }, 10)).toThrow(
      /sort must be one of/,
    );
  });

  it('get: one live row, and locked for a read-modify-write', () => {
    expect(tidy(statements.rowStatement(table('leads'), TEAM, ID))).toMatchSnapshot();
    expect(tidy(statements.rowStatement(table('leads'), TEAM, ID, true))).toMatchSnapshot();
  });

  it('create: the body, the creator, the default assignee looked up in the same statement', () => {
    const values = { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', status: null, unknown: 'x' };
    expect(
      tidy(statements.insertStatement(table('clients'), TEAM, { userId: USER, apiKeyId: null }, values)),
    ).toMatchSnapshot();
  });

  it('create: by an API key (nobody to assign) with an explicit assignee', () => {
    const values = { title: 'Call back', assignedTo: OTHER, dueAt: '2026-01-01T10:00:00.000Z' };
    expect(
      tidy(statements.insertStatement(table('tasks'), TEAM, { userId: null, apiKeyId: KEY }, values)),
    ).toMatchSnapshot();
  });

  it('update: the changed columns, version + 1, the old values in the audit row, and the If-Match version', () => {
    const old = { id: ID, status: 'active', price: '450000.00', version: 3 };
    const changes = { status: 'pending', price: '440000', id: 'ignored' };
    expect(tidy(statements.updateStatement(table('listings'), TEAM, old, changes))).toMatchSnapshot();
    expect(tidy(statements.updateStatement(table('listings'), TEAM, old, changes, 3))).toMatchSnapshot();
  });

  it('trash: soft delete returning the record as it was, with and without If-Match; the live-row look', () => {
    expect(tidy(statements.trashStatement(table('escrows'), TEAM, ID))).toMatchSnapshot();
    expect(tidy(statements.trashStatement(table('escrows'), TEAM, ID, 4))).toMatchSnapshot();
    expect(tidy(statements.liveVersionStatement(table('escrows'), TEAM, ID))).toMatchSnapshot();
  });

  it('trash list: most recently deleted first', () => {
    expect(tidy(statements.trashPageStatement(table('appointments'), TEAM, 20).statement)).toMatchSnapshot();
  });

  it('restore', () => {
    expect(tidy(statements.restoreStatement(table('activities'), TEAM, ID))).toMatchSnapshot();
  });

  it('purge: expired trash not referenced by another row, in batches', () => {
    const referrers = [
      { table: 'appointments', column: 'client_id' },
      { table: 'escrows', column: 'client_id' },
    ];
    expect(
      tidy(statements.purgeStatement(table('clients'), TEAM, new Date('2026-01-01T00:00:00Z'), referrers, 1000)),
    ).toMatchSnapshot();
    expect(
      tidy(statements.purgeStatement(table('tasks'), TEAM, new Date('2026-01-01T00:00:00Z'), [], 50)),
    ).toMatchSnapshot();
  });

  it('reassign: the live rows a hand-over moves (open tasks only), and the rest a removal releases', () => {
    expect(tidy(statements.reassignStatement(table('tasks'), TEAM, USER, OTHER, 'live'))).toMatchSnapshot();
    expect(tidy(statements.reassignStatement(table('tasks'), TEAM, USER, null, 'rest'))).toMatchSnapshot();
  });

  it('references: a linked id must be a live row of the team', () => {
    const [ref] = table('escrows').definition.references;
    expect(tidy(statements.referenceStatement(ref!, TEAM, ID))).toMatchSnapshot();
  });
});
