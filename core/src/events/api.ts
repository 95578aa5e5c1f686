import { ApiError, Type, type ApiRequest, type ManagementApi } from '@wharf/sdk';
import type { DeliveryStatus } from './delivery-store.js';
import type { EventsRuntime } from './events-runtime.js';

/**
 * The durable events API for operators: each consumer's backlog and lag, its deliveries by
 * status (dead ones with their last error), and retrying dead deliveries. System
 * administrators only (RBAC resource `system/events`).
 */

const STATUSES: readonly DeliveryStatus[] = ['pending', 'running', 'delivered', 'dead'];
const Time = Type.String({ format: 'date-time' });

export const ConsumerSchema = Type.Object(
  {
    name: Type.String(),
    types: Type.Array(Type.String(), { description: 'Event types or `area.*` patterns it receives.' }),
    pending: Type.Integer(),
    running: Type.Integer(),
    delivered: Type.Integer({ description: 'Delivered and still within retention.' }),
    dead: Type.Integer({ description: 'Failed every attempt; retry them with POST .../retry.' }),
    lagMs: Type.Integer({ description: 'Age of the oldest event not yet delivered; 0 when caught up.' }),
    lastError: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'EventConsumer', additionalProperties: false },
);

export const DeliverySchema = Type.Object(
  {
    seq: Type.Integer(),
    eventId: Type.String(),
    type: Type.String(),
    partition: Type.String(),
    status: Type.Union(STATUSES.map((s) => Type.Literal(s))),
    attempts: Type.Integer(),
    lastError: Type.Union([Type.String(), Type.Null()]),
    occurredAt: Time,
    finishedAt: Type.Union([Time, Type.Null()]),
  },
  { $id: 'EventDelivery', additionalProperties: false },
);

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) });
const RetryBody = Type.Object(
  { seq: Type.Optional(Type.Integer({ minimum: 1, description: 'One dead delivery; omit to retry all of the consumer\'s dead deliveries.' })) },
  { additionalProperties: false },
);
const RetryResult = Type.Object({ retried: Type.Integer() }, { $id: 'EventRetryResult', additionalProperties: false });

type Req = ApiRequest<unknown, unknown, unknown>;

export function registerEventOperations(api: ManagementApi, events: EventsRuntime): void {
  const may = (action: 'read' | 'update') => (req: Req) => req.authorize({ resource: { type: 'system', name: 'events' }, action });
  const consumerOf = (req: Req): string => {
    const { name } = req.params as { name: string };
    if (!events.subscriptions.get(name)) throw new ApiError('NOT_FOUND', `no event consumer "${name}"`);
    return name;
  };

  api.operation({
    operationId: 'listEventConsumers', method: 'GET', path: '/events/consumers', tag: 'events', summary: 'Durable event consumers and their backlog',
    list: true, response: ConsumerSchema,
    async handler(req) {
      await may('read')(req);
      const all = await events.service.consumers();
      const start = (req.page.page - 1) * req.page.pageSize;
      const items = all.slice(start, start + req.page.pageSize).map((c) => ({ ...c, types: [...c.types], lastError: c.lastError ?? null }));
      return { items, total: all.length };
    },
  });

  api.operation({
    operationId: 'listEventDeliveries', method: 'GET', path: '/events/consumers/{name}/deliveries', tag: 'events',
    summary: 'A consumer\'s deliveries in one status (default dead), newest first',
    params: NameParams, list: true, response: DeliverySchema, filters: ['status'],
    async handler(req) {
      await may('read')(req);
      const name = consumerOf(req);
      const status = (req.page.filters['status']?.value ?? 'dead') as DeliveryStatus;
      if (!STATUSES.includes(status)) throw new ApiError('BAD_REQUEST', `status must be one of ${STATUSES.join(', ')}`);
      const rows = await events.store.list(name, status, { limit: req.page.pageSize, offset: (req.page.page - 1) * req.page.pageSize });
      const items = rows.map((d) => ({
        seq: d.seq, eventId: d.eventId, type: d.type, partition: d.partition, status: d.status, attempts: d.attempts,
        lastError: d.lastError ?? null, occurredAt: d.occurredAt.toISOString(), finishedAt: d.finishedAt ? d.finishedAt.toISOString() : null,
      }));
      return { items, total: await events.store.count(name, status) };
    },
  });

  api.operation({
    operationId: 'retryEventDeliveries', method: 'POST', path: '/events/consumers/{name}/retry', tag: 'events',
    summary: 'Deliver dead events again', params: NameParams, body: RetryBody, response: RetryResult,
    async handler(req) {
      await may('update')(req);
      const name = consumerOf(req);
      const retried = await events.store.retryDead(name, (req.body as { seq?: number }).seq);
      events.wake();
      req.logger.info({ consumer: name, retried }, 'dead event deliveries queued again');
      return { retried };
    },
  });
}
