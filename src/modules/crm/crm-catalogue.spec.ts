import 'reflect-metadata';
import { Injectable, RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { Column, Entity } from 'typeorm';
import { crmCatalogue } from '../../common/resources/crm-catalogue';
import { PERMISSION, type PermissionSpec } from '../../common/security/decorators';
import { API_KEY_SCOPES, CRM_RESOURCES, isValidScope, scopesAllow } from '../../common/security/principal';
import { type AppConfig } from '../../config/app-config';
import { TeamScope } from '../../database/team-scope';
import { CreateApiKeyDto } from '../api-keys/dto/api-key.dto';
import { AUDIT_RESOURCE_TYPES } from '../audit/audit-chain';
import { AuditService } from '../audit/audit.service';
import { consoleClientConfig } from '../console/console.controller';
import { SecurityEventsService } from '../security-events/security-events.service';
import { TeamMembers } from '../users/users.module';
import { WEBHOOK_EVENT_TYPES, WEBHOOK_SUBSCRIPTIONS } from '../webhooks/entities/webhook.entity';
import { crmImportController } from './common/crm-import.controller';
import { CrmRecord } from './common/crm-record.entity';
import { crmResourceController } from './common/crm-resource.controller';
import { COMMON_SORTS, catalogueEntryOf, defineCrmResource } from './common/crm-resource.definition';
import { defineCrmEntry } from './common/crm-resource.entry';
import { CrmResourceService } from './common/crm-resource.service';
import { CRM_CATALOGUE } from './crm-catalogue';
import { timelineControllers } from './timeline/timeline.controller';

const ROOT = join(__dirname, '..', '..', '..');

/** The routes of a controller class (inherited generic handlers included), from Nest's metadata. */
function controllerRoutes(controller: Type): Array<{ method: string; path: string; handler: object }> {
  const out: Array<{ method: string; path: string; handler: object }> = [];
  for (let proto = controller.prototype as object; proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler = (proto as Record<string, unknown>)[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      if (path === undefined || out.some((r) => r.handler === handler)) continue;
      out.push({
        method: RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number] ?? '?',
        path,
        handler,
      });
    }
  }
  return out;
}

/** The properties a DTO refuses, with the app's whitelist rules. */
const dtoErrors = (cls: Type, plain: object): string[] =>
  validateSync(plainToInstance(cls, plain), { whitelist: true, forbidNonWhitelisted: true }).map((e) => e.property);

// ---------------------------------------------------------------------------------------- no hand lists

/** Every resource name the catalogue registers, plural and singular (route/scope, audit and webhook types). */
const NAMES = new Set(
  CRM_CATALOGUE.flatMap((e) => [e.definition.resource, e.definition.auditType, e.definition.webhookType]),
);

/**
 * The literals of `text` that list 3 or more of the resource names: an array `[…]`, an object `{…}` (names as
 * keys or values) or a union `'a' | 'b' | 'c'`. Only the group's own level counts (an array of objects that
 * each name one record, such as a definition's references, is not a list of names).
 */
export function handListsIn(text: string, names: ReadonlySet<string>): string[] {
  const found: string[] = [];
  const count = (body: string) => {
    // The group's own items: nested groups out; an item starts the group or follows `,` or `|`.
    const flat = body.replace(/\{[^{}]*\}/g, ' ').replace(/\[[^[\]]*\]/g, ' ');
    const hits = new Set<string>();
    for (const m of flat.matchAll(/(?:^|[,|])\s*(?:(['"`])([a-z_]+)\1|([a-z_]+)\s*:)/g)) {
      const name = m[2] ?? m[3];
      if (name && names.has(name)) hits.add(name);
    }
    return hits.size;
  };
  for (const group of [/\[[^[\]]*\]/g, /\{[^{}]*\}/g])
    for (const m of text.matchAll(group)) if (count(m[0].slice(1, -1)) >= 3) found.push(m[0]);
  for (const m of text.matchAll(/(?:(['"])[a-z_]+\1\s*\|\s*){2,}(['"])[a-z_]+\2/g))
    if (count(m[0]) >= 3) found.push(m[0]);
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return ['node_modules', 'vendor', '__snapshots__'].includes(entry.name) ? [] : sources(path);
    return /\.(ts|js|html)$/.test(entry.name) ? [path] : [];
  });
}

describe('the CRM resource names are listed once (the catalogue)', () => {
  it('no file of src/ or console/ lists three or more of them by hand', () => {
    // This spec's own examples of what it looks for are the one exception.
    const files = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'console'))].filter((f) => f !== __filename);
    const offenders = files.flatMap((path) =>
      handListsIn(readFileSync(path, 'utf8'), NAMES).map(
        (list) => `${relative(ROOT, path).split(sep).join('/')}: ${list.replace(/\s+/g, ' ').slice(0, 120)}`,
      ),
    );
    expect(offenders).toEqual([]);
  });

  it('recognises arrays, unions and objects of names, and not shorter lists or other words', () => {
    const names = new Set(['clients', 'client', 'leads', 'lead', 'tasks', 'task']);
    for (const list of [
      "const R = ['clients', 'leads', 'tasks'];",
      'export type T = "client" | "lead" | "task";',
      'const S = { clients: 1, leads: 2, tasks: 3 };',
      "const E = ['client', 'lead', 'task', 'user'].map(f);",
      "  'clients',\n  'leads',\n  'tasks',\n",
    ])
      expect([list, handListsIn(`[${list}]`, names).length > 0]).toEqual([list, true]);
    for (const other of [
      "const R = ['clients', 'leads'];",
      "[{ field: 'clientId', table: 'clients', noun: 'client' }, { field: 'leadId', table: 'leads', noun: 'lead' }, { table: 'tasks' }]",
      "example: ['clients:read', 'leads:write', 'tasks:*']",
      "'Timeline of clients, leads and tasks'",
    ])
      expect([other, handListsIn(other, names)]).toEqual([other, []]);
  });
});

// ---------------------------------------------------------------------------------------- an eighth resource

/** A resource that exists only in this spec: its folder would hold these, and crm-resources.ts one line. */
@Entity('notes')
class Note extends CrmRecord {
  @Column({ type: 'text' }) body: string;
}
class CreateNoteDto {
  body: string;
}
class UpdateNoteDto {}
class NoteListQuery {}
class NoteExportQuery {}
class NoteResponse {}

const notesDefinition = defineCrmResource({
  resource: 'notes',
  auditType: 'note',
  webhookType: 'note',
  extraWebhookEvents: ['note.pinned'],
  importable: { dedupeKeys: [] },
  timeline: { role: 'subject', linkColumn: 'note_id' },
  label: 'Note',
  table: 'notes',
  entity: Note,
  sorts: { ...COMMON_SORTS },
  filters: [],
  searchFields: ['body'],
  references: [],
  readOnly: [],
  constraintMessages: {},
});

@Injectable()
class NotesService extends CrmResourceService {
  constructor(teamScope: TeamScope, audit: AuditService, events: SecurityEventsService, members: TeamMembers) {
    super(notesDefinition, teamScope, audit, events, members);
  }
}

const notesResource = defineCrmEntry({
  definition: notesDefinition,
  dtos: {
    create: CreateNoteDto,
    update: UpdateNoteDto,
    listQuery: NoteListQuery,
    exportQuery: NoteExportQuery,
    response: NoteResponse,
  },
  service: NotesService,
});

const CONFIG = {
  passwordPolicy: { minLength: 12, historySize: 5 },
  apiKeys: { defaultExpiryDays: 90, expiryWarningDays: 7 },
} as unknown as AppConfig;

describe('registering an eighth resource', () => {
  const registered = CRM_CATALOGUE.map((e) => catalogueEntryOf(e.definition));

  // What crm-catalogue.ts does with the catalogue plus the new line.
  beforeAll(() => crmCatalogue.set([...registered, catalogueEntryOf(notesResource.definition)]));
  afterAll(() => crmCatalogue.set(registered));

  it('gives API keys its scopes (and the key DTO accepts them)', () => {
    expect(CRM_RESOURCES).toContain('notes');
    for (const action of ['read', 'write', 'delete', '*']) expect(API_KEY_SCOPES).toContain(`notes:${action}`);
    expect(isValidScope('notes:write')).toBe(true);
    expect(scopesAllow(['*:read'], 'notes', 'read')).toBe(true);
    const key = { name: 'k', scopes: ['notes:read', 'clients:write'], otp: '123456' };
    expect(dtoErrors(CreateApiKeyDto, key)).toEqual([]);
    expect(dtoErrors(CreateApiKeyDto, { ...key, scopes: ['memos:read'] })).toEqual(['scopes']);
  });

  it('adds its audit type and its webhook events', () => {
    expect(AUDIT_RESOURCE_TYPES).toContain('note');
    for (const verb of ['created', 'updated', 'deleted', 'restored'])
      expect(WEBHOOK_EVENT_TYPES).toContain(`note.${verb}`);
    expect(WEBHOOK_EVENT_TYPES).toContain('note.pinned');
    expect(WEBHOOK_SUBSCRIPTIONS).toContain('note.*');
  });

  it('shows it in the console config (key scopes, webhook events, audit filter)', () => {
    const config = consoleClientConfig(CONFIG);
    expect(config.crmResources.map((r) => r.resource)).toEqual([...registered.map((r) => r.resource), 'notes']);
    expect(config.crmResources.at(-1)).toEqual({
      resource: 'notes',
      label: 'Note',
      webhookType: 'note',
      extraWebhookEvents: ['note.pinned'],
    });
    expect(config.auditResourceTypes).toContain('note');
  });

  it('gets its routes: the generic ones, CSV import and a timeline, each on its own permission', () => {
    const routes = [
      ...controllerRoutes(crmResourceController(notesResource)).map((r) => ({ ...r, base: 'notes' })),
      ...controllerRoutes(crmImportController(notesResource)).map((r) => ({ ...r, base: 'notes' })),
      ...timelineControllers([...CRM_CATALOGUE, notesResource]).flatMap((c) =>
        controllerRoutes(c).map((r) => ({ ...r, base: Reflect.getMetadata('path', c) as string })),
      ),
    ].filter((r) => r.base === 'notes');
    const permissions = new Set(
      routes.map((r) => (Reflect.getMetadata(PERMISSION, r.handler) as PermissionSpec).resource),
    );
    expect([...permissions]).toEqual(['notes']);
    const paths = routes.map((r) => `${r.method} ${r.path}`);
    for (const path of ['GET /', 'POST /', 'PATCH :id', 'DELETE :id', 'POST import', 'GET :id/timeline'])
      expect(paths).toContain(path);
  });

  it('the real catalogue is back afterwards: no stray names', () => {
    crmCatalogue.set(registered);
    expect(CRM_RESOURCES).not.toContain('notes');
    expect(AUDIT_RESOURCE_TYPES).not.toContain('note');
    crmCatalogue.set([...registered, catalogueEntryOf(notesResource.definition)]);
  });
});
