import { COMMON_SORTS, defineCrmResource, sortOptions } from '../common/crm-resource.definition';
import { Escrow } from './escrow.entity';

export const escrowsDefinition = defineCrmResource({
  resource: 'escrows',
  auditType: 'escrow',
  webhookType: 'escrow',
  importable: { dedupeKeys: [] },
  timeline: { role: 'subject', linkColumn: 'escrow_id' },
  label: 'Escrow',
  table: 'escrows',
  entity: Escrow,
  sorts: { ...COMMON_SORTS },
  filters: [
    { param: 'status', where: (p) => `status = ${p}` },
    { param: 'clientId', where: (p) => `client_id = ${p}::uuid` },
  ],
  searchFields: ['propertyAddress', 'escrowNumber'],
  references: [
    { field: 'clientId', table: 'clients', noun: 'client' },
    { field: 'listingId', table: 'listings', noun: 'listing' },
  ],
  readOnly: [],
  constraintMessages: {
    escrows_closing_after_opening: 'closingDate must not be before openedAt',
    escrows_team_number_key: 'escrowNumber is already used by another escrow of your team',
  },
  visibleByAssigneeOnly: true,
});

export const ESCROW_SORTS = sortOptions(escrowsDefinition.sorts);
