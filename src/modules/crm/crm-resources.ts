// The CRM-pattern resources of this application, one line each. Adding a resource: its folder (definition,
// entity, DTOs, service, `<name>.resource.ts`) and a line here; scopes, audit and webhook types, routes, the
// timeline, imports and the console's lists follow from it (see crm-catalogue.ts).
export { clientsResource } from './clients/clients.resource';
export { leadsResource } from './leads/leads.resource';
export { appointmentsResource } from './appointments/appointments.resource';
export { escrowsResource } from './escrows/escrows.resource';
export { listingsResource } from './listings/listings.resource';
export { activitiesResource } from './activities/activities.resource';
export { tasksResource } from './tasks/tasks.resource';
