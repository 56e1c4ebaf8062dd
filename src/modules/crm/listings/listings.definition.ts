import { COMMON_SORTS, defineCrmResource, sortOptions } from '../common/crm-resource.definition';
import { Listing } from './listing.entity';

export const listingsDefinition = defineCrmResource({
  resource: 'listings',
  auditType: 'listing',
  webhookType: 'listing',
  importable: { dedupeKeys: [] },
  timeline: { role: 'subject', linkColumn: 'listing_id' },
  label: 'Listing',
  table: 'listings',
  entity: Listing,
  // Unpriced listings sort as -1 (first ascending, last descending); the index is on the same expression.
  sorts: { ...COMMON_SORTS, price: { expr: 'coalesce(price, -1)', cast: 'numeric' } },
  filters: [
    { param: 'status', where: (p) => `status = ${p}` },
    { param: 'city', where: (p) => `lower(city) = lower(${p})` },
    { param: 'minPrice', where: (p) => `price >= ${p}::numeric` },
    { param: 'maxPrice', where: (p) => `price <= ${p}::numeric` },
  ],
  searchFields: ['address', 'city', 'state', 'zip', 'mlsNumber'],
  references: [],
  readOnly: [],
  constraintMessages: { listings_team_mls_key: 'mlsNumber is already used by another listing of your team' },
  visibleByAssigneeOnly: true,
});

export const LISTING_SORTS = sortOptions(listingsDefinition.sorts);
