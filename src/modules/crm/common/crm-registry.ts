import { Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { CrmResourceService } from './crm-resource.service';

/**
 * Every resource built on the generic CRM pattern in this application (the five CRM resources and any other
 * module's, such as activities and tasks), found among the providers: reassignment and the trash purge
 * follow the registered definitions instead of a hand-kept table list.
 */
@Injectable()
export class CrmResourceRegistry {
  private cached?: CrmResourceService[];

  constructor(private readonly discovery: DiscoveryService) {}

  services(): CrmResourceService[] {
    if (!this.cached) {
      const byTable = new Map<string, CrmResourceService>();
      for (const wrapper of this.discovery.getProviders()) {
        const instance: unknown = wrapper.instance;
        if (instance instanceof CrmResourceService && !byTable.has(instance.definition.table))
          byTable.set(instance.definition.table, instance);
      }
      this.cached = [...byTable.values()];
    }
    return this.cached;
  }
}
