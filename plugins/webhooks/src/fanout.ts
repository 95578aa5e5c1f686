import { coreServices, type DatabaseService, type EventConsumer, type EventEnvelope } from '@wharf/sdk';
import type { DeliveryStore, NewDelivery, StoredEvent } from './delivery-store.js';
import { EVENT_KINDS, kindOfDurable, type PayloadContext } from './event-kinds.js';
import type { Policy, PolicyStore } from './policy-store.js';
import type { Logger } from 'pino';
import { SubscribedProjects } from './pull-filter.js';
import { webhooksServiceRef, type WebhooksService } from './services.js';

/**
 * The durable consumer: turns each event into one delivery row per (policy, target) in one
 * transaction, and does no network I/O. The event is acknowledged only after that commit, so a
 * crash before it delivers the event again and the rows' unique key absorbs the repeat; a slow
 * or dead receiver never holds up the event log, because sending is the workers' job.
 */

export const FANOUT_CONSUMER = 'webhooks-fanout';

export interface FanoutDeps {
  readonly database: DatabaseService;
  readonly policies: PolicyStore;
  readonly deliveries: DeliveryStore;
  readonly context: PayloadContext;
  /** Called after rows were written, so this node's worker starts at once. */
  readonly wake: () => void;
}

/** The stored event of one policy: Harbor's payload and the CloudEvents attributes. */
export function storedEvent(event: EventEnvelope, policy: { id: number; project: string; name: string }, harborType: string, cloudEventType: string, eventData: Record<string, unknown>): StoredEvent {
  return {
    payload: {
      type: harborType,
      occur_at: Math.floor(event.occurredAt.getTime() / 1000),
      operator: event.actor?.subject ?? 'system',
      event_data: eventData,
    },
    cloudEventType,
    source: `/projects/${policy.project}/webhook/policies/${policy.id}`,
    requestId: event.request?.requestId,
    policyName: policy.name,
  };
}

const PULL = 'PULL_ARTIFACT';

/** What the fan-out needs besides its rows' stores: the payload context. */
export interface FanoutOptions {
  readonly enabled: boolean;
  readonly pullEvents: boolean;
  readonly context: PayloadContext;
}

export function fanoutConsumer(options: FanoutOptions): EventConsumer<{ webhooks: typeof webhooksServiceRef; database: typeof coreServices.database }> {
  // Pull events of projects without a PULL_ARTIFACT policy are acknowledged without a query.
  let pullProjects: SubscribedProjects | undefined;

  /**
   * The rows of a run of events (one repository's, in order): each project's policies are read
   * once for the run, and all rows are inserted together (one statement per 100 rows, no
   * transaction: a repeat after a crash inserts only the rows that are missing).
   */
  const fanOut = async (events: readonly EventEnvelope[], logger: Logger, webhooks: WebhooksService, database: DatabaseService): Promise<void> => {
    if (!options.enabled) return;
    const deps: FanoutDeps = { database, policies: webhooks.policies, deliveries: webhooks.deliveries, context: options.context, wake: () => webhooks.worker.wake() };
    const subscribed = new Map<string, Promise<Policy[]>>();
    const rows: NewDelivery[] = [];
    for (const event of events) {
      const kind = kindOfDurable(event.type);
      const project = kind?.project(event);
      if (!kind || !project) continue;
      if (kind.harborType === PULL) {
        pullProjects ??= new SubscribedProjects(() => deps.policies.projectsSubscribedTo(PULL));
        if (!(await pullProjects.mayHave(project, event.occurredAt.getTime()))) continue;
      }
      const key = `${project}\n${kind.harborType}`;
      let policiesOf = subscribed.get(key);
      if (!policiesOf) subscribed.set(key, (policiesOf = deps.policies.subscribed(project, kind.harborType)));
      const policies = await policiesOf;
      if (policies.length === 0) continue;
      const eventData = kind.eventData(event, deps.context);
      for (const policy of policies) {
        const stored = storedEvent(event, policy, kind.harborType, kind.cloudEventType, eventData);
        policy.targets.forEach((target, targetIndex) => rows.push({ policyId: policy.id, eventId: event.id, targetIndex, target, event: stored }));
      }
    }
    if (rows.length === 0) return;
    const written = await deps.deliveries.enqueue(rows);
    logger.debug({ events: events.length, deliveries: written.length }, 'webhook deliveries queued');
    if (written.length > 0) deps.wake();
  };

  return {
    name: FANOUT_CONSUMER,
    types: EVENT_KINDS.filter((k) => options.pullEvents || k.harborType !== 'PULL_ARTIFACT').map((k) => k.source),
    concurrency: 4,
    // The fan-out only writes rows: failures are database trouble, worth many retries.
    maxAttempts: 50,
    deps: { webhooks: webhooksServiceRef, database: coreServices.database },
    handle: ({ event, logger }, { webhooks, database }) => fanOut([event], logger, webhooks, database),
    handleBatch: ({ events, logger }, { webhooks, database }) => fanOut(events, logger, webhooks, database),
  };
}
