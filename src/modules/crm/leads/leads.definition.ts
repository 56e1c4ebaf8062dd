import { COMMON_SORTS, defineCrmResource, sortOptions } from '../common/crm-resource.definition';
import { Lead } from './lead.entity';

/** Sent when a lead becomes a client (LeadsService.convert). */
export const LEAD_CONVERTED_EVENT = 'lead.converted';

export const leadsDefinition = defineCrmResource({
  resource: 'leads',
  auditType: 'lead',
  webhookType: 'lead',
  extraWebhookEvents: [LEAD_CONVERTED_EVENT],
  importable: { dedupeKeys: ['email', 'phone'] },
  timeline: { role: 'subject', linkColumn: 'lead_id' },
  label: 'Lead',
  table: 'leads',
  entity: Lead,
  sorts: { ...COMMON_SORTS, lastName: { expr: 'last_name', cast: 'text' } },
  filters: [
    { param: 'leadType', where: (p) => `lead_type = ${p}` },
    { param: 'leadStatus', where: (p) => `lead_status = ${p}` },
    { param: 'source', where: (p) => `lower(source) = lower(${p})` },
  ],
  searchFields: ['firstName', 'lastName', 'email', 'phone', 'source'],
  references: [],
  readOnly: ['convertedClientId', 'convertedAt'],
  constraintMessages: {},
  visibleByAssigneeOnly: true,
});

export const LEAD_SORTS = sortOptions(leadsDefinition.sorts);
