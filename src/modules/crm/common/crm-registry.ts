import { Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { CrmResourceService } from './crm-resource.service';

/**
 * Every resource built on the generic CRM pattern in this application (the catalogue's services, and any other
 * module's), found among the providers: reassignment, the trash purge and the timeline follow the registered
 * definitions instead of a hand-kept table list.
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

  /** The service of a registered resource (`clients`), if any. */
  byResource(resource: string): CrmResourceService | undefined {
    return this.services().find((s) => s.definition.resource === resource);
  }
}
