import { WebhookReceiver } from './webhook-receiver';

/** One span as OTLP/HTTP JSON carries it, attributes flattened. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  status?: { code?: number; message?: string };
  service?: string;
}

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type KeyValue = { key: string; value: AnyValue };
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: KeyValue[];
  status?: ReceivedSpan['status'];
}
interface TracesRequest {
  resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

const flatten = (attributes: KeyValue[] = []): ReceivedSpan['attributes'] =>
  Object.fromEntries(
    attributes.map(({ key, value }) => [
      key,
      value.stringValue ??
        (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue ?? '')),
    ]),
  );

/**
 * A minimal OTLP/HTTP trace collector (JSON encoding) on loopback: the recording receiver of the webhook tests,
 * read as OTLP export requests.
 */
export class OtlpReceiver extends WebhookReceiver {
  /** Every span exported so far. */
  get spans(): ReceivedSpan[] {
    const spans: ReceivedSpan[] = [];
    for (const hit of this.received) {
      if (hit.path !== '/v1/traces') continue;
      for (const resourceSpans of (hit.json as TracesRequest | undefined)?.resourceSpans ?? []) {
        const service = flatten(resourceSpans.resource?.attributes)['service.name'] as string | undefined;
        for (const scope of resourceSpans.scopeSpans ?? [])
          for (const span of scope.spans ?? [])
            spans.push({
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId || undefined,
              name: span.name,
              kind: span.kind,
              attributes: flatten(span.attributes),
              status: span.status,
              service,
            });
      }
    }
    return spans;
  }

  /** The chain of parents of a span, nearest first (within what was received). */
  ancestors(span: ReceivedSpan, spans = this.spans): ReceivedSpan[] {
    const chain: ReceivedSpan[] = [];
    let current: ReceivedSpan | undefined = span;
    while (current?.parentSpanId) {
      const parentId: string = current.parentSpanId;
      current = spans.find((s) => s.spanId === parentId && s.traceId === span.traceId);
      if (current) chain.push(current);
    }
    return chain;
  }
}
