import { crmCatalogue } from '../../common/resources/crm-catalogue';
import { type CrmResourceEntry } from './common/crm-resource.entry';
import { catalogueEntryOf } from './common/crm-resource.definition';
import * as REGISTERED from './crm-resources';

/** Every registered resource (crm-resources.ts), in the order of its lines. */
export const CRM_CATALOGUE: readonly CrmResourceEntry[] = Object.values(REGISTERED);

// What the rest of the application reads about them (scopes, audit and webhook types, the console's lists).
crmCatalogue.set(CRM_CATALOGUE.map((entry) => catalogueEntryOf(entry.definition)));

type Registered = (typeof REGISTERED)[keyof typeof REGISTERED]['definition'];
type RegisteredNames = { [D in Registered as D['resource']]: D['auditType'] };

declare module '../../common/resources/crm-catalogue' {
  // The registered names as types: `CrmResource` is 'clients' | 'leads' | … (declaration merging).
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface CrmResourceNames extends RegisteredNames {}
}
