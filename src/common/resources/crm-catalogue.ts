/**
 * The names each CRM-pattern resource (clients, leads, …) contributes to the rest of the application: its
 * API-key scope and permission resource, its audit resource type, its webhook event types, and what the
 * console shows. `src/common` and the other feature modules read them here and import no CRM file; the CRM
 * module fills this registry from its catalogue (src/modules/crm/crm-catalogue.ts) when that file loads,
 * which is before the application is built.
 *
 * Why a registry and not a DI token: some of these lists are read by decorators (OpenAPI enums,
 * class-validator's IsIn) when a class is defined, before any injector exists, and in whatever order the
 * files happen to load. `derivedList` hands out arrays that are refilled in place whenever the catalogue is
 * set, so a decorator holding one sees the registered resources by the time it is used (validation, the
 * OpenAPI document), whatever the import order.
 */
export interface CrmCatalogueEntry {
  /** Plural: route prefix (`/v1/clients`), permission resource and API-key scope name. */
  resource: string;
  /** Singular: the audit log's resource type. */
  auditType: string;
  /** Prefix of the webhook event types: `<webhookType>.created|updated|deleted|restored`. */
  webhookType: string;
  /** Event types beyond the four changes (`lead.converted`), full names. */
  extraWebhookEvents: readonly string[];
  /** "Client", for messages and the console. */
  label: string;
  /** Has POST /v1/<resource>/import. */
  importable: boolean;
  /** Fields an import can deduplicate on (`dedupeBy`). */
  dedupeKeys: readonly string[];
  /** Has GET /v1/<resource>/:id/timeline. */
  timeline: boolean;
}

/**
 * The registered resource names as types, filled by declaration merging in the CRM catalogue: each resource
 * adds `<resource>: '<auditType>'`, so `CrmResource` is the union of the registered plurals and a typo in
 * `@Permission('clinets', …)` fails the type check.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CrmResourceNames {}
export type CrmResource = Extract<keyof CrmResourceNames, string>;
export type CrmAuditType = Extract<CrmResourceNames[CrmResource], string>;

/** Names other parts use already: a CRM resource taking one would mix two things in one list. */
const RESERVED = new Set(['users', 'user', 'api_keys', 'api_key', 'audit', 'security', 'webhooks', 'webhook', 'team']);
const NAME = /^[a-z][a-z_]*$/;

class CrmCatalogue {
  private current: readonly CrmCatalogueEntry[] = [];
  private readonly lists: Array<{
    target: string[];
    derive: (entries: readonly CrmCatalogueEntry[]) => readonly string[];
  }> = [];

  /** Replaces the registered resources (the CRM catalogue does it once, at load; tests may again). */
  set(entries: readonly CrmCatalogueEntry[]): void {
    const seen = new Set<string>();
    for (const e of entries) {
      for (const name of new Set([e.resource, e.auditType, e.webhookType])) {
        if (!NAME.test(name)) throw new Error(`CRM catalogue: "${name}" is not a lower-case name`);
        if (RESERVED.has(name)) throw new Error(`CRM catalogue: "${name}" is reserved for another part`);
        if (seen.has(name)) throw new Error(`CRM catalogue: "${name}" is registered twice`);
        seen.add(name);
      }
    }
    this.current = Object.freeze([...entries]);
    for (const list of this.lists) list.target.splice(0, list.target.length, ...list.derive(this.current));
  }

  entries(): readonly CrmCatalogueEntry[] {
    return this.current;
  }

  has(resource: string): boolean {
    return this.current.some((e) => e.resource === resource);
  }

  byAuditType(auditType: string): CrmCatalogueEntry | undefined {
    return this.current.find((e) => e.auditType === auditType);
  }

  /** A list computed from the entries, kept current in place (the same array object for its whole life). */
  derivedList(derive: (entries: readonly CrmCatalogueEntry[]) => readonly string[]): readonly string[] {
    const target = [...derive(this.current)];
    this.lists.push({ target, derive });
    return target;
  }
}

/** The application's one catalogue of CRM-pattern resources. */
export const crmCatalogue = new CrmCatalogue();
