import { type Provider, type Type } from '@nestjs/common';
import { type CrmResourceDefinition } from './crm-resource.definition';
import { type CrmResourceService } from './crm-resource.service';

/** The request and response classes of a resource's generic routes. */
export interface CrmResourceDtos {
  create: Type<object>;
  update: Type<object>;
  listQuery: Type<object>;
  exportQuery: Type<object>;
  response: Type<object>;
  /** The trash list's item (the response plus deletedAt); defaults to the response. */
  trashed?: Type<object>;
}

/**
 * One resource of the catalogue, as its folder declares it (`<name>.resource.ts`): the definition (table,
 * entity, names, filters, sorts, import, timeline), its DTOs and its service. CrmModule builds the
 * controllers (generic routes, import, timeline) and providers from it; `controllers` and `providers` add
 * what only this resource has (the lead conversion route, the task reminder job).
 */
export interface CrmResourceEntry<D extends CrmResourceDefinition = CrmResourceDefinition> {
  definition: D;
  dtos: CrmResourceDtos;
  service: Type<CrmResourceService>;
  controllers?: Type[];
  providers?: Provider[];
}

export function defineCrmEntry<D extends CrmResourceDefinition>(entry: CrmResourceEntry<D>): CrmResourceEntry<D> {
  return entry;
}
