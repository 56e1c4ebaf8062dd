import { COMMON_SORTS, defineCrmResource, sortOptions } from '../common/crm-resource.definition';
import { Activity } from './activity.entity';

/** The four records an activity or a task can be about; each is checked against the caller's visible rows. */
export const LINK_REFERENCES = [
  { field: 'clientId', table: 'clients', noun: 'client' },
  { field: 'leadId', table: 'leads', noun: 'lead' },
  { field: 'listingId', table: 'listings', noun: 'listing' },
  { field: 'escrowId', table: 'escrows', noun: 'escrow' },
];

export const LINK_FIELDS = LINK_REFERENCES.map((r) => r.field);

export const activitiesDefinition = defineCrmResource({
  resource: 'activities',
  auditType: 'activity',
  webhookType: 'activity',
  timeline: { role: 'entry', at: 'occurred_at' },
  label: 'Activity',
  table: 'activities',
  entity: Activity,
  sorts: { ...COMMON_SORTS, occurredAt: { expr: 'occurred_at', cast: 'timestamptz' } },
  filters: [
    { param: 'type', where: (p) => `type = ${p}` },
    { param: 'clientId', where: (p) => `client_id = ${p}::uuid` },
    { param: 'leadId', where: (p) => `lead_id = ${p}::uuid` },
    { param: 'listingId', where: (p) => `listing_id = ${p}::uuid` },
    { param: 'escrowId', where: (p) => `escrow_id = ${p}::uuid` },
    { param: 'authorId', where: (p) => `created_by = ${p}::uuid` },
    { param: 'from', where: (p) => `occurred_at >= ${p}::timestamptz` },
    { param: 'to', where: (p) => `occurred_at <= ${p}::timestamptz` },
  ],
  searchFields: ['subject', 'body', 'outcome'],
  references: LINK_REFERENCES,
  readOnly: [],
  constraintMessages: {
    activities_link_required: 'an activity needs at least one of clientId, leadId, listingId, escrowId',
    activities_duration_range: 'durationMinutes must be between 0 and 100000',
    activities_body_length: 'body must be at most 10000 characters',
    activities_type_check: 'type must be one of note, call, email, text, meeting, showing',
  },
});

export const ACTIVITY_SORTS = sortOptions(activitiesDefinition.sorts);
