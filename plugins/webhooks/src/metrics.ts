import { Gauge, type Registry } from 'prom-client';
import type { DeliveryStore } from './delivery-store.js';
import type { FanoutQueue } from './fanout-queue.js';

/** A scrape reads the database at most this often; in between it sees the last counts. */
const COUNT_EVERY_MS = 10_000;

/**
 * The webhook backlog in `/metrics` (when the metrics plugin is loaded): events queued and not
 * yet made into deliveries (and of those, the ones stuck), and deliveries by status. Counted
 * at most every 10 s whatever the scrape rate (two queries: the queue in one pass, the history
 * by status); a second kernel in one process (tests) reuses the registered gauge.
 */
export function registerWebhookMetrics(registry: Registry, queue: FanoutQueue, deliveries: DeliveryStore): void {
  let counted = Number.NEGATIVE_INFINITY;
  let counting: Promise<void> | undefined;
  let backlog = { queued: 0, waiting: 0, setAside: 0 };
  let byStatus: Record<string, number> = {};
  const refresh = (): Promise<void> => {
    if (Date.now() - counted < COUNT_EVERY_MS) return Promise.resolve();
    counting ??= (async () => {
      [backlog, byStatus] = await Promise.all([queue.counts(), deliveries.counts()]);
      counted = Date.now();
    })().finally(() => (counting = undefined));
    return counting;
  };
  if (!registry.getSingleMetric('wharf_webhooks_queued_events')) {
    new Gauge({
      name: 'wharf_webhooks_queued_events',
      help: 'Events queued for webhook policies and not yet made into deliveries (a backlog behind slow receivers)',
      registers: [registry],
      async collect() {
        await refresh().catch(() => undefined);
        this.set(backlog.queued);
      },
    });
  }
  if (!registry.getSingleMetric('wharf_webhooks_stuck_events')) {
    new Gauge({
      name: 'wharf_webhooks_stuck_events',
      help: 'Queued webhook events that failed to become deliveries on their own: waiting to be tried again, or set aside for an operator',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        await refresh().catch(() => undefined);
        this.set({ state: 'waiting' }, backlog.waiting);
        this.set({ state: 'set_aside' }, backlog.setAside);
      },
    });
  }
  if (!registry.getSingleMetric('wharf_webhooks_deliveries')) {
    new Gauge({
      name: 'wharf_webhooks_deliveries',
      help: 'Webhook deliveries in the history by status (pending, running, succeeded, failed)',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        await refresh().catch(() => undefined);
        for (const [status, n] of Object.entries(byStatus)) this.set({ status }, n);
      },
    });
  }
}
