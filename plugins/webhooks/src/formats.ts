import type { WebhookEvent } from '@wharf/sdk';

/**
 * The two JSON formats of an HTTP delivery. CloudEvents 1.0 in structured mode: the attributes
 * and `data` in one JSON object sent as `application/cloudevents+json`, as Harbor does, with
 * Harbor's extensions `requestid` and `operator`. The CloudEvents `id` is the delivery id, the
 * same on every retry, so receivers can deduplicate on `source` + `id` as the spec asks.
 */

export function cloudEvent(event: WebhookEvent): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: event.deliveryId,
    source: event.source,
    type: event.cloudEventType,
    datacontenttype: 'application/json',
    time: new Date(event.payload.occur_at * 1000).toISOString(),
    ...(event.requestId ? { requestid: event.requestId } : {}),
    operator: event.payload.operator,
    data: event.payload.event_data,
  };
}

export function renderBody(format: 'Default' | 'CloudEvents', event: WebhookEvent): { body: string; contentType: string } {
  if (format === 'CloudEvents') return { body: JSON.stringify(cloudEvent(event)), contentType: 'application/cloudevents+json' };
  return { body: JSON.stringify(event.payload), contentType: 'application/json' };
}
