import { COMMON_SORTS, defineCrmResource, sortOptions } from '../common/crm-resource.definition';
import { Appointment } from './appointment.entity';

export const appointmentsDefinition = defineCrmResource({
  resource: 'appointments',
  auditType: 'appointment',
  webhookType: 'appointment',
  importable: { dedupeKeys: [] },
  timeline: { role: 'entry', at: 'starts_at' },
  label: 'Appointment',
  table: 'appointments',
  entity: Appointment,
  sorts: { ...COMMON_SORTS, startsAt: { expr: 'starts_at', cast: 'timestamptz' } },
  filters: [
    { param: 'status', where: (p) => `status = ${p}` },
    { param: 'from', where: (p) => `starts_at >= ${p}::timestamptz` },
    { param: 'to', where: (p) => `starts_at <= ${p}::timestamptz` },
    { param: 'clientId', where: (p) => `client_id = ${p}::uuid` },
  ],
  searchFields: ['title', 'location'],
  references: [
    { field: 'clientId', table: 'clients', noun: 'client' },
    { field: 'leadId', table: 'leads', noun: 'lead' },
  ],
  readOnly: [],
  constraintMessages: { appointments_ends_after_starts: 'endsAt must not be before startsAt' },
  visibleByAssigneeOnly: true,
});

export const APPOINTMENT_SORTS = sortOptions(appointmentsDefinition.sorts);
