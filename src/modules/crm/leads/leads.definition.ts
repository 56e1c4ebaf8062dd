import { COMMON_SORTS, type CrmResourceDefinition, sortOptions } from '../common/crm-resource.definition';
import { Lead } from './lead.entity';

export const leadsDefinition: CrmResourceDefinition = {
  resource: 'leads',
  auditType: 'lead',
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
};

export const LEAD_SORTS = sortOptions(leadsDefinition.sorts);
