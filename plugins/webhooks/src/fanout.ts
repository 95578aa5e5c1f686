import { coreServices, type DatabaseService, type EventConsumer, type EventEnvelope } from '@wharf/sdk';
import type { StoredEvent } from './delivery-store.js';
import { EVENT_KINDS, kindOfDurable, type PayloadContext } from './event-kinds.js';
import { eventFor, type Fanout, type FanoutQueue, type QueuedEvent } from './fanout-queue.js';
import type { Policy, PolicyStore } from './policy-store.js';
import type { Logger } from 'pino';
import { SubscribedProjects } from './pull-filter.js';
import { webhooksServiceRef, type WebhooksService } from './services.js';

/**
 * The durable consumer: queues each event that some policy subscribes to, with those policies
 * and their targets, as one row (fanout-queue.ts), and does no network I/O. The event is
 * acknowledged only after that write, so a crash before it delivers the event again and the
 * row's unique key absorbs the repeat; a slow or dead receiver never holds up the event log,
 * because turning the queue into deliveries and sending them is the workers' job.
 */

export const FANOUT_CONSUMER = 'webhooks-fanout';

export interface FanoutDeps {
  readonly database: DatabaseService;
  readonly policies: PolicyStore;
  readonly queue: FanoutQueue;
  readonly context: PayloadContext;
  /** Called after events were queued, so this node's worker starts at once. */
  readonly wake: () => void;
}

/** An event as queued: Harbor's payload and the CloudEvents attributes, less the per-policy fields. */
export function queuedEvent(event: EventEnvelope, harborType: string, cloudEventType: string, eventData: Record<string, unknown>): QueuedEvent {
  return {
    payload: {
      type: harborType,
      occur_at: Math.floor(event.occurredAt.getTime() / 1000),
      operator: event.actor?.subject ?? 'system',
      event_data: eventData,
    },
    cloudEventType,
    requestId: event.request?.requestId,
  };
}

/** The stored event of one policy (the test endpoint's, which skips the queue). */
export function storedEvent(event: EventEnvelope, policy: { id: number; project: string; name: string }, harborType: string, cloudEventType: string, eventData: Record<string, unknown>): StoredEvent {
  return eventFor(queuedEvent(event, harborType, cloudEventType, eventData), policy);
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
   * Queues a run of events (one repository's, in order): each project's policies are read once
   * for the run, and the run's events are written together (one statement per 100 events, no
   * transaction: a repeat after a crash writes only the events that are missing).
   */
  const fanOut = async (events: readonly EventEnvelope[], logger: Logger, webhooks: WebhooksService, database: DatabaseService): Promise<void> => {
    if (!options.enabled) return;
    const deps: FanoutDeps = { database, policies: webhooks.policies, queue: webhooks.queue, context: options.context, wake: () => webhooks.worker.wake() };
    const subscribed = new Map<string, Promise<Policy[]>>();
    const queued: Fanout[] = [];
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
      queued.push({
        eventId: event.id,
        event: queuedEvent(event, kind.harborType, kind.cloudEventType, kind.eventData(event, deps.context)),
        policies: policies.map(({ id, project: p, name, targets }) => ({ id, project: p, name, targets })),
      });
    }
    if (queued.length === 0) return;
    await deps.queue.add(queued);
    logger.debug({ events: events.length, queued: queued.length }, 'webhook events queued');
    deps.wake();
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
