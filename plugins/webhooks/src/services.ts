import { createServiceRef } from '@wharf/sdk';
import type { DeliveryStore } from './delivery-store.js';
import type { FanoutQueue } from './fanout-queue.js';
import type { PolicyStore } from './policy-store.js';
import type { SecretBox } from './secret-box.js';
import type { DeliveryWorker } from './worker.js';

/** The plugin's internals, for its tests and for operators' tools; not a stable API. */
export interface WebhooksService {
  readonly policies: PolicyStore;
  readonly deliveries: DeliveryStore;
  /** Events waiting to become delivery rows. */
  readonly queue: FanoutQueue;
  readonly worker: DeliveryWorker;
  /** Seals signing secrets and auth headers (contexts in worker.ts). */
  readonly box: SecretBox;
  /** Trims the delivery history now (the plugin also does it every `history.purgeIntervalSeconds`). */
  purge(): Promise<number>;
}

export const webhooksServiceRef = createServiceRef<WebhooksService>({ id: 'webhooks.service' });
