import { Inject, Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { parse } from 'csv-parse';
import type { FastifyInstance } from 'fastify';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { Readable } from 'node:stream';
import { type EntityManager } from 'typeorm';
import { AppException } from '../../../common/http/app.exception';
import { flattenValidationErrors } from '../../../common/http/validation';
import { type Actor, actorApiKeyId, actorUserId } from '../../../common/security/principal';
import { APP_CONFIG } from '../../../config/config.module';
import { AppConfig } from '../../../config/app-config';
import { queryRows } from '../../../database/query-rows';
import { TeamScope, actorScope } from '../../../database/team-scope';
import { type AuditResourceType } from '../../audit/audit-chain';
import { AuditService } from '../../audit/audit.service';
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
 * CSV import for the CRM resources (POST /v1/<resource>/import). The whole file is read (up to
 * IMPORT_MAX_BYTES) and parsed as a stream, each row checked with the rules of POST (the resource's create DTO
 * through class-validator, required fields, references to the team's own records), and only a file without a
 * single bad row is written: in one TeamScope transaction, with one INSERT … SELECT FROM jsonb_to_recordset
 * (and, deduplicating, one UPDATE … FROM it) wrapped by AuditService.withAudit, so each record's audit row is
 * written by the same statement.
 */
@Injectable()
export class CrmImportService implements OnModuleInit {
  private readonly shapes = new Map<string, ImportShape>();

  constructor(
    private readonly teamScope: TeamScope,
    private readonly audit: AuditService,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (fastify) registerCsvBodyParser(fastify, this.config.csvImport.maxBytes);
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
    const rows = await this.readRows(body, shape, createDto, options.dedupeBy);

    return service.translateImportErrors(() =>
      this.teamScope.run(actorScope(actor), async (m) => {
        const errors: ImportRowError[] = [];
        await this.checkReferences(m, teamId, service, rows, errors);
        if (errors.length) throw this.invalid(errors);

        const { creates, updates } = await this.plan(m, teamId, def.table, rows, options.dedupeBy);
        if (options.dryRun) return { created: creates.length, updated: updates.length, dryRun: true };

        const withDefaults = creates.map((values) => {
          if (values.assignedTo === undefined && shape.fields.has('assignedTo'))
            return { ...values, assignedTo: actorUserId(actor) };
          return values;
        });
        const updated = updates.length ? await this.updateMatches(m, actor, teamId, service, shape, updates) : 0;
        const created = withDefaults.length ? await this.insertRows(m, actor, teamId, service, shape, withDefaults) : 0;
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
  ): Promise<ParsedRow[]> {
    const maxRows = this.config.csvImport.maxRows;
    const parser = Readable.from([body]).pipe(
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
  ): Promise<void> {
    const checks = [
      ...service.definition.references.map((ref) => ({
        field: ref.field,
        sql: `SELECT id::text AS id FROM ${ref.table} WHERE team_id = $1 AND id = ANY($2::uuid[]) AND deleted_at IS NULL`,
        message: `no such ${ref.noun} in your team`,
      })),
      {
        field: 'assignedTo',
        sql: `SELECT id::text AS id FROM users WHERE team_id = $1 AND id = ANY($2::uuid[]) AND NOT disabled`,
        message: 'no such active user in your team',
      },
    ];
    for (const check of checks) {
      const ids = [
        ...new Set(rows.map((r) => r.values[check.field]).filter((v): v is string => typeof v === 'string')),
      ];
      if (!ids.length) continue;
      const found = new Set(
        (await queryRows<{ id: string }>(m, check.sql, [teamId, ids])).map((r) => r.id.toLowerCase()),
      );
      for (const r of rows) {
        const id = r.values[check.field];
        if (typeof id === 'string' && !found.has(id.toLowerCase()) && errors.length < MAX_REPORTED_ERRORS)
          errors.push({ row: r.row, field: check.field, message: check.message });
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
  ): Promise<{ creates: Record<string, unknown>[]; updates: { id: string; values: Record<string, unknown> }[] }> {
    if (!dedupeBy) return { creates: rows.map((r) => r.values), updates: [] };
    const merged = new Map<string, Record<string, unknown>>();
    const creates: Record<string, unknown>[] = [];
    for (const r of rows) {
      if (r.key === undefined) creates.push(r.values);
      else merged.set(r.key, { ...(merged.get(r.key) ?? {}), ...r.values });
    }
    if (!merged.size) return { creates, updates: [] };
    // Two deduplicating imports of one team take turns, so neither creates what the other is creating.
    await queryRows(m, `SELECT pg_advisory_xact_lock(hashtext($1))`, [`crm-import:${table}:${teamId}`]);
    const existing = await this.existingByKey(m, teamId, table, dedupeBy, [...merged.keys()]);
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
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (dedupeBy === 'email') {
      const found = await queryRows<{ id: string; k: string }>(
        m,
        `SELECT id, lower(email) AS k FROM ${table}
          WHERE team_id = $1 AND deleted_at IS NULL AND lower(email) = ANY($2::text[])
          ORDER BY created_at, id FOR UPDATE`,
        [teamId, keys],
      );
      for (const { id, k } of found) if (!out.has(k)) out.set(k, id);
      return out;
    }
    // Stored phones are free-form: narrow by their last seven digits in SQL, then compare E.164 forms here.
    const tails = [...new Set(keys.map(digitsTail))];
    const found = await queryRows<{ id: string; phone: string }>(
      m,
      `SELECT id, phone FROM ${table}
        WHERE team_id = $1 AND deleted_at IS NULL AND phone IS NOT NULL
          AND right(regexp_replace(phone, '\\D', '', 'g'), 7) = ANY($2::text[])
        ORDER BY created_at, id FOR UPDATE`,
      [teamId, tails],
    );
    const wanted = new Set(keys);
    for (const { id, phone } of found) {
      const e164 = normalisePhone(phone);
      if (e164 && wanted.has(e164) && !out.has(e164)) out.set(e164, id);
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------- writes

  /** The rows as one jsonb array keyed c0…cN, and the matching jsonb_to_recordset column list. */
  private recordset(fields: ImportField[], rows: Record<string, unknown>[], withId: boolean) {
    const json = JSON.stringify(
      rows.map((values, i) => {
        const o: Record<string, unknown> = { n: i };
        fields.forEach((f, j) => {
          const v = values[f.property];
          if (v !== undefined && v !== null) o[`c${j}`] = v;
        });
        if (withId) o.rid = values.__id;
        return o;
      }),
    );
    const columns = ['n int', ...fields.map((f, j) => `c${j} ${f.sqlType}`), ...(withId ? ['rid uuid'] : [])];
    return { json, columns: columns.join(', ') };
  }

  /** Fields any of the rows sets, in the shape's order. */
  private usedFields(shape: ImportShape, rows: Record<string, unknown>[]): ImportField[] {
    const used = new Set<string>();
    for (const r of rows) for (const [k, v] of Object.entries(r)) if (v !== undefined && v !== null) used.add(k);
    return [...shape.fields.values()].filter((f) => used.has(f.property));
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
  ): Promise<number> {
    const fields = this.usedFields(shape, rows);
    const targets = ['team_id', 'created_by', 'created_by_api_key', ...fields.map((f) => `"${f.column}"`)];
    const values = [
      '$1::uuid',
      '$2::uuid',
      '$3::uuid',
      ...fields.map((f, j) => (f.defaultSql ? `coalesce(r.c${j}, ${f.defaultSql})` : `r.c${j}`)),
    ];
    let total = 0;
    for (let start = 0; start < rows.length; start += WRITE_CHUNK) {
      const { json, columns } = this.recordset(fields, rows.slice(start, start + WRITE_CHUNK), false);
      const sql = `INSERT INTO ${service.definition.table} (${targets.join(', ')})
        SELECT ${values.join(', ')} FROM jsonb_to_recordset($4::jsonb) AS r(${columns}) ORDER BY r.n
        RETURNING ${shape.selectList}`;
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
    const tail = 'SELECT * FROM changed';
    const trimmed = sql.trimEnd();
    if (trimmed.endsWith(tail)) {
      const counted = `${trimmed.slice(0, -tail.length)}SELECT count(*)::int AS n FROM changed`;
      return Number((await queryRows<{ n: number }>(m, counted, [...params]))[0]?.n ?? 0);
    }
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
  ): Promise<number> {
    const fields = this.usedFields(
      shape,
      updates.map((u) => u.values),
    );
    const t = service.definition.table;
    const sets = fields.map((f, j) => `"${f.column}" = coalesce(r.c${j}, ${t}."${f.column}")`);
    sets.push('updated_at = now()', 'version = version + 1');
    let total = 0;
    for (let start = 0; start < updates.length; start += WRITE_CHUNK) {
      const rows = updates.slice(start, start + WRITE_CHUNK).map((u) => ({ ...u.values, __id: u.id }));
      const { json, columns } = this.recordset(fields, rows, true);
      // The FROM subquery reads each matched record as it was (API shape), so its audit row (and webhook
      // `previous`) carries that record's own old values: `_previous` leaves the statement only through them.
      const sql = `UPDATE ${t} SET ${sets.join(', ')}
        FROM (SELECT r.*, (SELECT to_jsonb(p) FROM (SELECT ${shape.selectList}) p) AS _previous
                FROM ${t} x JOIN jsonb_to_recordset($2::jsonb) AS r(${columns}) ON x.id = r.rid
               WHERE x.team_id = $1 AND x.deleted_at IS NULL) AS r
        WHERE ${t}.team_id = $1 AND ${t}.id = r.rid AND ${t}.deleted_at IS NULL
        RETURNING ${shape.selectList}, r._previous AS "_previous"`;
      const changedFields = fields.map((f) => f.property);
      const statement = this.audit.withAudit(actor, teamId, sql, [teamId, json], {
        action: 'UPDATE',
        resourceType: service.definition.auditType as AuditResourceType,
        oldValues: { previousColumn: '_previous', fields: changedFields },
        newValues: { fields: changedFields },
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

/**
 * `text/csv` bodies, for the import routes only, read into one Buffer of at most `maxBytes` (413 past it, in
 * the envelope). The raw bytes are kept as sent: the Idempotency-Key fingerprint hashes them, and the import
 * parses them as a stream. On any other route a CSV body stays what it was before: 415.
 */
export function registerCsvBodyParser(fastify: FastifyInstance, maxBytes: number): void {
  const tooLarge = () =>
    new AppException(
      'PAYLOAD_TOO_LARGE',
      `The CSV body is larger than ${maxBytes} bytes (IMPORT_MAX_BYTES); split it into several imports`,
    );
  fastify.addContentTypeParser('text/csv', (request, payload, done) => {
    const route = request.routeOptions?.url ?? '';
    if (!route.endsWith('/import')) {
      payload.resume();
      done(new AppException('UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type; send application/json'), undefined);
      return;
    }
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      // Drained, not read: the client may finish sending and still read the answer.
      payload.resume();
      done(tooLarge(), undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const finish = (err: Error | null, body?: Buffer) => {
      if (finished) return;
      finished = true;
      payload.removeListener('data', onData);
      done(err, body);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        chunks.length = 0;
        payload.resume();
        finish(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    payload.on('data', onData);
    payload.once('end', () => finish(null, Buffer.concat(chunks, size)));
    payload.once('error', (err) => finish(err));
  });
}
