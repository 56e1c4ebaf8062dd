// Over 400 lines for now: one import pipeline (read slices → validate rows → check references → plan dedupe → write
// chunks with their audit rows) whose steps share the per-resource shape; the SQL is already in crm-import.statements.ts.
// Next split: the CSV reading and row validation into a reader of their own.
import { Inject, Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { parse } from 'csv-parse';
import type { FastifyInstance } from 'fastify';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type EntityManager } from 'typeorm';
import { AppException } from '../../../common/http/app.exception';
import { LongUploadRoutes } from '../../../common/http/request-timeouts';
import { flattenValidationErrors } from '../../../common/http/validation';
import { type Actor, actorApiKeyId, actorUserId } from '../../../common/security/principal';
import { APP_CONFIG } from '../../../config/config.module';
import { AppConfig } from '../../../config/app-config';
import { queryRows } from '../../../database/query-rows';
import { TeamScope, actorScope } from '../../../database/team-scope';
import { type AuditResourceType } from '../../audit/audit-chain';
import { AuditService } from '../../audit/audit.service';
import { ImportSlots, importAlreadyRunning, isImportRoute, registerCsvBodyParser } from './crm-import.body';
import {
  ACTIVE_ASSIGNEES_SQL,
  TEAM_IMPORT_LOCK_SQL,
  countChangedSql,
  existingByEmailSql,
  existingByPhoneSql,
  insertSql,
  recordsetJson,
  referencedIdsSql,
  updateSql,
} from './crm-import.statements';
import { type CrmResourceService } from './crm-resource.service';

import { type DedupeKey } from './crm-resource.definition';

export { type DedupeKey };

export interface ImportOptions {
  dryRun: boolean;
  dedupeBy?: DedupeKey;
}

export interface ImportResult {
  created: number;
  updated: number;
  dryRun: boolean;
}

/** One problem of the file: `row` counts data rows from 1 (0 is the header row). */
export interface ImportRowError {
  row: number;
  field: string | null;
  message: string;
}

/** Row errors reported at most; validation stops there (the file is refused either way). */
const MAX_REPORTED_ERRORS = 100;
const DEFAULT_PHONE_COUNTRY = 'US';
/** Rows per INSERT/UPDATE statement: set-based, yet each statement far from the statement timeout. */
const WRITE_CHUNK = 5000;
/** The body is fed to csv-parse in slices of this size, so no single parse step holds the event loop long. */
const PARSE_SLICE_BYTES = 64 * 1024;
/** Work over the rows gives way to other requests (setImmediate) once it has run this long. */
const YIELD_AFTER_MS = 5;
/** Rows per JSON.stringify call when building a statement's rows, so none of those calls runs long. */
const JSON_PIECE_ROWS = 500;

/** How one importable field is read from its cell and written. */
interface ImportField {
  property: string;
  column: string;
  /** Cast of the json text value in jsonb_to_recordset. */
  sqlType: string;
  /** Cells are text; these become numbers before validation, as a JSON body would carry them. */
  numeric: 'int' | 'decimal' | null;
  /** NOT NULL with a default: an empty cell means that default. */
  defaultSql: string | null;
}

interface ImportShape {
  fields: Map<string, ImportField>;
  required: Set<string>;
  selectList: string;
}

/** A valid row: its values by property, and where it came from. */
interface ParsedRow {
  row: number;
  values: Record<string, unknown>;
  /** The dedupe key, normalised (lower-case email, E.164 phone), when the row has one. */
  key?: string;
}

const INT = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

function sqlTypeOf(type: string): string {
  switch (type) {
    case 'smallint':
    case 'integer':
    case 'int':
    case 'bigint':
    case 'uuid':
    case 'date':
    case 'boolean':
      return type;
    case 'numeric':
    case 'decimal':
      return 'numeric';
    case 'timestamptz':
    case 'timestamp with time zone':
      return 'timestamptz';
    default:
      // varchar(n) and text: text here, the column's own length check applies on assignment.
      return 'text';
  }
}

/** E.164 of a phone written any usual way (default country US), or null when it is not a phone number. */
export function normalisePhone(raw: string): string | null {
  const parsed = parsePhoneNumberFromString(raw, DEFAULT_PHONE_COUNTRY);
  return parsed && parsed.isValid() ? parsed.number : null;
}

function digitsTail(e164: string): string {
  return e164.replace(/\D/g, '').slice(-7);
}

/**
 * The import's share of the event loop: every loop over the rows (parsing, validating, checking, planning,
 * building the statements' rows) calls `due()` once per row, which yields to other requests (setImmediate)
 * once the loop has run YIELD_AFTER_MS. So /health and everyone else's requests are served meanwhile.
 */
class Turns {
  private last = performance.now();

  async due(): Promise<void> {
    if (performance.now() - this.last < YIELD_AFTER_MS) return;
    await nextTurn();
    this.last = performance.now();
  }
}

/** The body in slices (views, not copies) for the streaming parser. */
function* slices(body: Buffer): Generator<Buffer> {
  for (let start = 0; start < body.length; start += PARSE_SLICE_BYTES)
    yield body.subarray(start, start + PARSE_SLICE_BYTES);
}

/**
 * CSV import for the CRM resources (POST /v1/<resource>/import). The whole file is read (up to
 * IMPORT_MAX_BYTES, only once RequestGate has admitted the caller from the head, and one upload per team:
 * crm-import.body.ts). In one TeamScope transaction: the team's import lock is tried first (a second import
 * of the team, on any instance, is 429); the file is parsed in slices and each row checked with the rules of
 * POST (the resource's create DTO through class-validator, required fields, references to the team's own
 * records), yielding to the event loop every few milliseconds so other requests are served meanwhile; and only
 * a file without a single bad row is written, with one INSERT … SELECT FROM jsonb_to_recordset (and,
 * deduplicating, one UPDATE … FROM it) per chunk, wrapped by AuditService.withAudit, so each record's audit
 * row is written by the same statement. The SQL is in crm-import.statements.ts.
 */
@Injectable()
export class CrmImportService implements OnModuleInit {
  private readonly shapes = new Map<string, ImportShape>();
  private readonly slots = new ImportSlots();

  constructor(
    private readonly teamScope: TeamScope,
    private readonly audit: AuditService,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly longUploads: LongUploadRoutes,
  ) {}

  onModuleInit(): void {
    // Uploads of up to IMPORT_MAX_BYTES get IMPORT_TIMEOUT_MS to arrive.
    this.longUploads.add(isImportRoute);
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (fastify) registerCsvBodyParser(fastify, this.config.csvImport.maxBytes, this.slots);
  }

  async import(
    service: CrmResourceService,
    createDto: Type<object>,
    actor: Actor,
    body: unknown,
    options: ImportOptions,
  ): Promise<ImportResult> {
    const def = service.definition;
    const teamId = actor.principal?.teamId;
    if (!teamId) throw AppException.unauthenticated();
    // Fastify hands no body at all to a parser for an empty request.
    if (body === undefined || body === null)
      throw AppException.validation('The CSV is empty: send a header row of field names, then the rows');
    if (!Buffer.isBuffer(body))
      throw new AppException('UNSUPPORTED_MEDIA_TYPE', 'Send the CSV file as the body with Content-Type: text/csv');
    // The definition says what its records can be deduplicated on (people: email and phone).
    const dedupeKeys: readonly string[] = def.importable?.dedupeKeys ?? [];
    if (options.dedupeBy && !dedupeKeys.includes(options.dedupeBy))
      throw AppException.validation(
        `Invalid input: dedupeBy=${options.dedupeBy} is not available for ${def.resource}`,
        [{ field: 'dedupeBy', errors: [`not available for ${def.resource}`] }],
      );
    const shape = this.shapeOf(service);
    const turns = new Turns();

    return service.translateImportErrors(() =>
      this.teamScope.run(actorScope(actor), async (m) => {
        // First, so a second import of the team (on any instance) is refused before any work is done.
        const [lock] = await queryRows<{ locked: boolean }>(m, TEAM_IMPORT_LOCK_SQL, [teamId]);
        if (!lock?.locked) throw importAlreadyRunning();
        const rows = await this.readRows(body, shape, createDto, options.dedupeBy, turns);
        const errors: ImportRowError[] = [];
        await this.checkReferences(m, teamId, service, rows, errors, turns);
        if (errors.length) throw this.invalid(errors);

        const { creates, updates } = await this.plan(m, teamId, def.table, rows, options.dedupeBy, turns);
        if (options.dryRun) return { created: creates.length, updated: updates.length, dryRun: true };

        if (shape.fields.has('assignedTo')) {
          const importer = actorUserId(actor);
          for (const values of creates) {
            if (values.assignedTo === undefined) values.assignedTo = importer;
            await turns.due();
          }
        }
        const updated = updates.length ? await this.updateMatches(m, actor, teamId, service, shape, updates, turns) : 0;
        const created = creates.length ? await this.insertRows(m, actor, teamId, service, shape, creates, turns) : 0;
        return { created, updated, dryRun: false };
      }),
    );
  }

  // ---------------------------------------------------------------------------------------------- reading

  /** Parses and validates every row; throws 400 with the row errors, or 413 past IMPORT_MAX_ROWS. */
  private async readRows(
    body: Buffer,
    shape: ImportShape,
    createDto: Type<object>,
    dedupeBy: DedupeKey | undefined,
    turns: Turns,
  ): Promise<ParsedRow[]> {
    const maxRows = this.config.csvImport.maxRows;
    const parser = Readable.from(slices(body)).pipe(
      parse({ bom: true, skip_empty_lines: true, max_record_size: 1024 * 1024 }),
    );
    const errors: ImportRowError[] = [];
    const rows: ParsedRow[] = [];
    let header: ImportField[] | undefined;
    let row = 0;
    try {
      for await (const record of parser as AsyncIterable<string[]>) {
        if (!header) {
          header = this.readHeader(record, shape);
          continue;
        }
        row++;
        if (row > maxRows)
          throw new AppException(
            'PAYLOAD_TOO_LARGE',
            `The file has more than ${maxRows} rows (IMPORT_MAX_ROWS); split it into several imports`,
          );
        await turns.due();
        if (errors.length >= MAX_REPORTED_ERRORS) continue;
        const parsed = this.readRow(row, record, header, shape, createDto, dedupeBy, errors);
        if (parsed) rows.push(parsed);
      }
    } catch (err) {
      if (err instanceof AppException) throw err;
      const csv = err as { code?: string; records?: number; message?: string };
      if (typeof csv.code === 'string' && (csv.code.startsWith('CSV_') || csv.code === 'INVALID_OPENING_QUOTE')) {
        // csv-parse's count includes the header, so it is the data row of the failing record (0: the header).
        const at = csv.records ?? 0;
        const message = (csv.message ?? 'Malformed CSV').replace(/\s+/g, ' ');
        throw AppException.validation(`Malformed CSV at row ${at}: ${message}`, [{ row: at, field: null, message }]);
      }
      throw err;
    }
    if (!header) throw AppException.validation('The CSV is empty: send a header row of field names, then the rows');
    if (errors.length) throw this.invalid(errors, row);
    return rows;
  }

  private readHeader(record: string[], shape: ImportShape): ImportField[] {
    const seen = new Set<string>();
    const errors: ImportRowError[] = [];
    const fields: ImportField[] = [];
    for (const raw of record) {
      // Spreadsheets like to pad header cells; field names never have spaces.
      const name = raw.trim();
      const field = shape.fields.get(name);
      if (!field) errors.push({ row: 0, field: name, message: `unknown column "${name}"` });
      else if (seen.has(name)) errors.push({ row: 0, field: name, message: `column "${name}" appears twice` });
      else fields.push(field);
      seen.add(name);
    }
    if (errors.length) {
      const allowed = [...shape.fields.keys()].join(', ');
      throw AppException.validation(
        `Invalid header: ${errors.map((e) => e.message).join('; ')}. Columns are API field names: ${allowed}`,
        errors,
      );
    }
    return fields;
  }

  /** One data row → a body as POST would receive it, validated the same way; errors go to `errors`. */
  private readRow(
    row: number,
    record: string[],
    header: ImportField[],
    shape: ImportShape,
    createDto: Type<object>,
    dedupeBy: DedupeKey | undefined,
    errors: ImportRowError[],
  ): ParsedRow | undefined {
    const plain: Record<string, unknown> = {};
    header.forEach((field, i) => {
      const cell = record[i] ?? '';
      // An empty cell is an absent field: the default on create, unchanged on a deduplicated update.
      if (cell === '') return;
      if (field.numeric === 'int' && INT.test(cell.trim())) plain[field.property] = Number(cell.trim());
      else if (field.numeric === 'decimal' && DECIMAL.test(cell.trim())) plain[field.property] = Number(cell.trim());
      else plain[field.property] = cell;
    });
    const before = errors.length;
    for (const field of shape.required) {
      if (plain[field] === undefined) errors.push({ row, field, message: `${field} is required` });
    }
    const dto = plainToInstance(createDto, plain);
    // Synchronous: the DTO rules are all synchronous, and a promise per rule per row costs more than the rule.
    const problems = validateSync(dto, {
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      validationError: { target: false, value: false },
    });
    for (const problem of flattenValidationErrors(problems)) {
      if (shape.required.has(problem.field) && plain[problem.field] === undefined) continue; // said above
      for (const message of problem.errors) errors.push({ row, field: problem.field, message });
    }
    // Trimmed and otherwise transformed as the DTO does for POST.
    const values: Record<string, unknown> = {};
    for (const property of Object.keys(plain)) values[property] = (dto as Record<string, unknown>)[property];

    let key: string | undefined;
    if (dedupeBy === 'email' && typeof values.email === 'string') key = values.email.trim().toLowerCase();
    if (dedupeBy === 'phone' && typeof values.phone === 'string') {
      const e164 = normalisePhone(values.phone);
      // The DTO's own phone rule may have said so already.
      const said = errors.slice(before).some((e) => e.field === 'phone');
      if (e164) key = e164;
      else if (!said)
        errors.push({ row, field: 'phone', message: 'phone is not a valid phone number (default country US)' });
    }
    if (errors.length > before) return undefined;
    return { row, values, key };
  }

  private invalid(errors: ImportRowError[], rows?: number): AppException {
    const shown = errors.slice(0, MAX_REPORTED_ERRORS);
    const first = shown[0]!;
    const more =
      errors.length >= MAX_REPORTED_ERRORS ? ` (validation stopped after ${MAX_REPORTED_ERRORS} errors)` : '';
    return AppException.validation(
      `Invalid import: nothing was written. Row ${first.row}${first.field ? `, ${first.field}` : ''}: ${first.message}` +
        (shown.length > 1 ? `; and ${shown.length - 1} more` : '') +
        more +
        (rows !== undefined ? `. ${rows} rows read` : ''),
      shown,
    );
  }

  // ---------------------------------------------------------------------------------------------- checks

  /** Referenced ids (clientId, listingId, leadId) and assignees must be the team's: one query per field. */
  private async checkReferences(
    m: EntityManager,
    teamId: string,
    service: CrmResourceService,
    rows: ParsedRow[],
    errors: ImportRowError[],
    turns: Turns,
  ): Promise<void> {
    const checks = [
      ...service.definition.references.map((ref) => ({
        field: ref.field,
        sql: referencedIdsSql(ref.table),
        message: `no such ${ref.noun} in your team`,
      })),
      { field: 'assignedTo', sql: ACTIVE_ASSIGNEES_SQL, message: 'no such active user in your team' },
    ];
    for (const check of checks) {
      const referenced = new Set<string>();
      for (const r of rows) {
        const id = r.values[check.field];
        if (typeof id === 'string') referenced.add(id);
        await turns.due();
      }
      if (!referenced.size) continue;
      const found = new Set(
        (await queryRows<{ id: string }>(m, check.sql, [teamId, [...referenced]])).map((r) => r.id.toLowerCase()),
      );
      for (const r of rows) {
        const id = r.values[check.field];
        if (typeof id === 'string' && !found.has(id.toLowerCase()) && errors.length < MAX_REPORTED_ERRORS)
          errors.push({ row: r.row, field: check.field, message: check.message });
        await turns.due();
      }
    }
  }

  /**
   * Which rows create a record and which update one. Without dedupeBy every row is a new record. With it, rows
   * sharing a key are merged in file order (a later non-empty cell wins), and a merged row whose key matches a
   * live record of the team (the oldest, if several do) updates that record.
   */
  private async plan(
    m: EntityManager,
    teamId: string,
    table: string,
    rows: ParsedRow[],
    dedupeBy: DedupeKey | undefined,
    turns: Turns,
  ): Promise<{ creates: Record<string, unknown>[]; updates: { id: string; values: Record<string, unknown> }[] }> {
    if (!dedupeBy) return { creates: rows.map((r) => r.values), updates: [] };
    const merged = new Map<string, Record<string, unknown>>();
    const creates: Record<string, unknown>[] = [];
    for (const r of rows) {
      if (r.key === undefined) creates.push(r.values);
      else merged.set(r.key, { ...(merged.get(r.key) ?? {}), ...r.values });
      await turns.due();
    }
    if (!merged.size) return { creates, updates: [] };
    // No other import of the team runs meanwhile (the team's import lock, held by this transaction), so none
    // creates what this one is about to create.
    const existing = await this.existingByKey(m, teamId, table, dedupeBy, [...merged.keys()], turns);
    const updates: { id: string; values: Record<string, unknown> }[] = [];
    for (const [key, values] of merged) {
      const id = existing.get(key);
      if (id) updates.push({ id, values });
      else creates.push(values);
    }
    return { creates, updates };
  }

  /** Live records of the team by normalised key (oldest first wins), locked for the update. */
  private async existingByKey(
    m: EntityManager,
    teamId: string,
    table: string,
    dedupeBy: DedupeKey,
    keys: string[],
    turns: Turns,
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (dedupeBy === 'email') {
      const found = await queryRows<{ id: string; k: string }>(m, existingByEmailSql(table), [teamId, keys]);
      for (const { id, k } of found) if (!out.has(k)) out.set(k, id);
      return out;
    }
    // Stored phones are free-form: narrow by their last seven digits in SQL, then compare E.164 forms here.
    const tails = [...new Set(keys.map(digitsTail))];
    const found = await queryRows<{ id: string; phone: string }>(m, existingByPhoneSql(table), [teamId, tails]);
    const wanted = new Set(keys);
    for (const { id, phone } of found) {
      const e164 = normalisePhone(phone);
      if (e164 && wanted.has(e164) && !out.has(e164)) out.set(e164, id);
      await turns.due();
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------- writes

  /** Fields any of the rows sets, in the shape's order. */
  private async usedFields(shape: ImportShape, rows: Record<string, unknown>[], turns: Turns): Promise<ImportField[]> {
    const used = new Set<string>();
    for (const r of rows) {
      for (const [k, v] of Object.entries(r)) if (v !== undefined && v !== null) used.add(k);
      await turns.due();
    }
    return [...shape.fields.values()].filter((f) => used.has(f.property));
  }

  /** recordsetJson of many rows, built a few hundred rows per call (yielding between), joined into one array. */
  private async rowsJson(
    properties: string[],
    rows: Record<string, unknown>[],
    ids: string[] | undefined,
    turns: Turns,
  ): Promise<string> {
    const pieces: string[] = [];
    for (let start = 0; start < rows.length; start += JSON_PIECE_ROWS) {
      const end = start + JSON_PIECE_ROWS;
      pieces.push(recordsetJson(properties, rows.slice(start, end), ids?.slice(start, end), start).slice(1, -1));
      await turns.due();
    }
    return `[${pieces.join(',')}]`;
  }

  /**
   * INSERT … SELECT FROM jsonb_to_recordset, with one audit row per record in the same statement; in chunks
   * of WRITE_CHUNK rows, so no single statement nears DB_QUERY_TIMEOUT_MS (all in the one transaction).
   */
  private async insertRows(
    m: EntityManager,
    actor: Actor,
    teamId: string,
    service: CrmResourceService,
    shape: ImportShape,
    rows: Record<string, unknown>[],
    turns: Turns,
  ): Promise<number> {
    const fields = await this.usedFields(shape, rows, turns);
    const properties = fields.map((f) => f.property);
    const sql = insertSql({ table: service.definition.table, selectList: shape.selectList }, fields);
    let total = 0;
    for (let start = 0; start < rows.length; start += WRITE_CHUNK) {
      const json = await this.rowsJson(properties, rows.slice(start, start + WRITE_CHUNK), undefined, turns);
      const statement = this.audit.withAudit(
        actor,
        teamId,
        sql,
        [teamId, actorUserId(actor), actorApiKeyId(actor), json],
        {
          action: 'CREATE',
          resourceType: service.definition.auditType as AuditResourceType,
          oldValues: null,
          newValues: 'changed',
        },
      );
      total += await this.affected(m, statement.sql, statement.params);
    }
    return total;
  }

  /** Rows a withAudit statement changed, without shipping every changed row back (only their number). */
  private async affected(m: EntityManager, sql: string, params: readonly unknown[]): Promise<number> {
    const counted = countChangedSql(sql);
    if (counted) return Number((await queryRows<{ n: number }>(m, counted, [...params]))[0]?.n ?? 0);
    return (await queryRows(m, sql, [...params])).length;
  }

  /** UPDATE … FROM the merged rows (chunked like inserts): each matched record gets the row's non-empty cells. */
  private async updateMatches(
    m: EntityManager,
    actor: Actor,
    teamId: string,
    service: CrmResourceService,
    shape: ImportShape,
    updates: { id: string; values: Record<string, unknown> }[],
    turns: Turns,
  ): Promise<number> {
    const fields = await this.usedFields(
      shape,
      updates.map((u) => u.values),
      turns,
    );
    const properties = fields.map((f) => f.property);
    const sql = updateSql({ table: service.definition.table, selectList: shape.selectList }, fields);
    let total = 0;
    for (let start = 0; start < updates.length; start += WRITE_CHUNK) {
      const chunk = updates.slice(start, start + WRITE_CHUNK);
      const json = await this.rowsJson(
        properties,
        chunk.map((u) => u.values),
        chunk.map((u) => u.id),
        turns,
      );
      const statement = this.audit.withAudit(actor, teamId, sql, [teamId, json], {
        action: 'UPDATE',
        resourceType: service.definition.auditType as AuditResourceType,
        oldValues: { previousColumn: '_previous', fields: properties },
        newValues: { fields: properties },
      });
      total += await this.affected(m, statement.sql, statement.params);
    }
    return total;
  }

  // ---------------------------------------------------------------------------------------------- shape

  private shapeOf(service: CrmResourceService): ImportShape {
    const cached = this.shapes.get(service.definition.resource);
    if (cached) return cached;
    const api = service.importShape();
    const metadata = this.teamScope.dataSource.getMetadata(service.definition.entity);
    const fields = new Map<string, ImportField>();
    for (const [property, column] of api.writable) {
      const col = metadata.columns.find((c) => c.propertyName === property);
      if (!col) continue;
      const type = String(col.type);
      const numeric =
        type === 'smallint' || type === 'integer' || type === 'int'
          ? 'int'
          : (type === 'numeric' || type === 'decimal') && col.scale !== 2
            ? 'decimal'
            : null;
      let defaultSql: string | null = null;
      if (api.notNullFields.has(property) && col.default !== undefined) {
        const d: unknown = col.default;
        defaultSql =
          typeof d === 'function'
            ? String((d as () => string)())
            : typeof d === 'number'
              ? String(d)
              : `'${String(d).replace(/'/g, "''")}'`;
      }
      fields.set(property, { property, column, sqlType: sqlTypeOf(type), numeric, defaultSql });
    }
    const shape = { fields, required: new Set(api.requiredFields), selectList: api.selectList };
    this.shapes.set(service.definition.resource, shape);
    return shape;
  }
}
