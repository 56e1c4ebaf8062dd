import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Column, Entity } from 'typeorm';
import { crmCatalogue } from '../src/common/resources/crm-catalogue';
import { PERMISSION, type PermissionSpec } from '../src/common/security/decorators';
import { API_KEY_SCOPES, CRM_RESOURCES, isValidScope, scopesAllow } from '../src/common/security/principal';
import { type Ctor, controllerRoutes, dtoErrors } from '../src/common/testing/controller-routes';
import { type AppConfig } from '../src/config/app-config';
import { TeamScope } from '../src/database/team-scope';
import { CreateApiKeyDto } from '../src/modules/api-keys/dto/api-key.dto';
import { AUDIT_RESOURCE_TYPES } from '../src/modules/audit/audit-chain';
import { AuditService } from '../src/modules/audit/audit.service';
import { consoleClientConfig } from '../src/modules/console/console.controller';
import { crmImportController } from '../src/modules/crm/common/crm-import.controller';
import { CrmRecord } from '../src/modules/crm/common/crm-record.entity';
import { crmResourceController } from '../src/modules/crm/common/crm-resource.controller';
import { COMMON_SORTS, catalogueEntryOf, defineCrmResource } from '../src/modules/crm/common/crm-resource.definition';
import { defineCrmEntry } from '../src/modules/crm/common/crm-resource.entry';
import { CrmResourceService } from '../src/modules/crm/common/crm-resource.service';
import { CRM_CATALOGUE } from '../src/modules/crm/crm-catalogue';
import { timelineControllers } from '../src/modules/crm/timeline/timeline.controller';
import { SecurityEventsService } from '../src/modules/security-events/security-events.service';
import { TeamMembers } from '../src/modules/users/users.module';
import { WEBHOOK_EVENT_TYPES, WEBHOOK_SUBSCRIPTIONS } from '../src/modules/webhooks/entities/webhook.entity';

/**
 * Adding an eighth CRM-pattern resource: what its folder would hold (below) and the line crm-resources.ts would
 * get (the catalogue set with it). The lists the rest of the application derives pick it up: API-key scopes,
 * audit types, webhook event types, the console's config, and its routes. No database needed.
 */
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
    expect(dtoErrors(CreateApiKeyDto as Ctor, key)).toEqual([]);
    expect(dtoErrors(CreateApiKeyDto as Ctor, { ...key, scopes: ['memos:read'] })).toEqual(['scopes']);
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
      ...controllerRoutes(crmResourceController(notesResource) as Ctor).map((r) => ({ ...r, base: 'notes' })),
      ...controllerRoutes(crmImportController(notesResource) as Ctor).map((r) => ({ ...r, base: 'notes' })),
      ...timelineControllers([...CRM_CATALOGUE, notesResource]).flatMap((c) =>
        controllerRoutes(c as Ctor).map((r) => ({ ...r, base: Reflect.getMetadata('path', c) as string })),
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
