import { COMMON_SORTS, type CrmResourceDefinition, sortOptions } from '../common/crm-resource.definition';
import { Escrow } from './escrow.entity';

export const escrowsDefinition: CrmResourceDefinition = {
  resource: 'escrows',
  auditType: 'escrow',
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
};

export const ESCROW_SORTS = sortOptions(escrowsDefinition.sorts);
