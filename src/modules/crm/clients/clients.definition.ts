import { COMMON_SORTS, defineCrmResource, sortOptions } from '../common/crm-resource.definition';
import { Client } from './client.entity';

export const clientsDefinition = defineCrmResource({
  resource: 'clients',
  auditType: 'client',
  webhookType: 'client',
  importable: { dedupeKeys: ['email', 'phone'] },
  timeline: { role: 'subject', linkColumn: 'client_id' },
  label: 'Client',
  table: 'clients',
  entity: Client,
  sorts: { ...COMMON_SORTS, lastName: { expr: 'last_name', cast: 'text' } },
  filters: [
    { param: 'clientType', where: (p) => `client_type = ${p}` },
    { param: 'status', where: (p) => `status = ${p}` },
  ],
  searchFields: ['firstName', 'lastName', 'email', 'phone', 'address'],
  references: [],
  readOnly: ['leadId'],
  constraintMessages: {},
  visibleByAssigneeOnly: true,
});

export const CLIENT_SORTS = sortOptions(clientsDefinition.sorts);
