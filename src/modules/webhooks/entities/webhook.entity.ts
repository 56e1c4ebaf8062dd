import { type CrmCatalogueEntry, crmCatalogue } from '../../../common/resources/crm-catalogue';
/** The CRM record types that emit `<type>.<change>` events (each catalogue resource's webhook type). */
export const WEBHOOK_RECORD_TYPES: readonly string[] = crmCatalogue.derivedList((entries) =>
  entries.map((e) => e.webhookType),
);

/** Audit action → the event's verb. PURGE (and anything else) emits nothing. */
export const WEBHOOK_CHANGE_VERBS: Readonly<Record<string, string>> = {
  CREATE: 'created',
  UPDATE: 'updated',
  DELETE: 'deleted',
  RESTORE: 'restored',
};

export const TEST_EVENT = 'webhook.test';

function eventTypes(entries: readonly CrmCatalogueEntry[]): string[] {
  return [
    ...entries.flatMap((e) => [
      ...Object.values(WEBHOOK_CHANGE_VERBS).map((verb) => `${e.webhookType}.${verb}`),
      ...e.extraWebhookEvents,
    ]),
    TEST_EVENT,
  ];
}

/** Every event type a hook can receive: each record type's changes and extra events, and the test event. */
export const WEBHOOK_EVENT_TYPES: readonly string[] = crmCatalogue.derivedList(eventTypes);

/** What a hook may subscribe to: exact types, `<type>.*` and `*`. */
export const WEBHOOK_SUBSCRIPTIONS: readonly string[] = crmCatalogue.derivedList((entries) => [
  '*',
  ...entries.map((e) => `${e.webhookType}.*`),
  ...eventTypes(entries),
]);

/** The subscriptions that match an event type (for `events && <this>` in SQL). */
export function subscriptionsMatching(type: string): string[] {
  const dot = type.indexOf('.');
  return [type, `${type.slice(0, dot)}.*`, '*'];
}

/** Postgres text[] literal of known-safe strings (catalogue values only). */
export function textArrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v}"`).join(',')}}`;
}

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Postgres channel: a statement inserting deliveries notifies it at commit (trigger in the migration). */
export const WEBHOOK_CHANNEL = 'hearth_webhooks';

/** A hook as the API shows it (never the secret). */
export interface WebhookView {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  active: boolean;
  failingSince: string | null;
  deactivatedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A delivery as GET /:id/deliveries lists it. */
export interface DeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
}
