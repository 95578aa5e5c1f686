import { createHash } from 'node:crypto';
import { authEvents, registryEvents, systemEvents, type EventConsumer, type EventEnvelope, type EventType, type Logger } from '@wharf/sdk';
import type { AuditConfig } from './config.js';
import { entriesOf, type AuditEntry } from './entries.js';
import { auditServiceRef } from './service.js';
import type { AuditStore } from './store.js';
import { viewOf } from './view.js';

/**
 * The durable consumer that turns events into entries: stored (unless `store: false`), then
 * forwarded as log records (with `forward: true`). Stored first: a failed insert is retried by
 * the event service, and forwarding only after it means a retry does not forward twice.
 * Idempotent: a redelivered event inserts nothing new (unique event id and part).
 */

export const CONSUMER_NAME = 'audit-log';

/** The event types the audit log receives; pulls only when they are recorded at all. */
export function auditedTypes(config: Pick<AuditConfig, 'pulls'>): Array<EventType<unknown> | string> {
  return [
    registryEvents.manifestPushed,
    registryEvents.manifestDeleted,
    registryEvents.tagDeleted,
    registryEvents.repositoryDeleted,
    ...(config.pulls.record ? [registryEvents.artifactPulled] : []),
    authEvents.loginSucceeded,
    authEvents.loginFailed,
    authEvents.accessDenied,
    systemEvents.configChanged,
    'management.*',
  ];
}

/**
 * Whether a pull event is kept at `rate`: decided by its id, so every delivery of one event
 * (and every node) gives the same answer.
 */
export function sampled(eventId: string, rate: number): boolean {
  if (rate >= 1) return true;
  const h = createHash('sha256').update(eventId).digest().readUInt32BE(0);
  return h / 0x1_0000_0000 < rate;
}

export interface RecorderDeps {
  readonly config: AuditConfig;
  /** Where forwarded entries go: a logger bound with `{ channel: 'audit' }`. */
  readonly forward: Logger | undefined;
}

/** The entries an event becomes under the config (pull sampling applied). */
export function recordedEntries(event: EventEnvelope, config: Pick<AuditConfig, 'pulls'>): AuditEntry[] {
  if (event.type === registryEvents.artifactPulled.name && !sampled(event.id, config.pulls.sampleRate)) return [];
  const entries = entriesOf(event);
  if (config.pulls.sampleRate < 1 && event.type === registryEvents.artifactPulled.name) {
    return entries.map((e) => ({ ...e, detail: { ...e.detail, sampleRate: config.pulls.sampleRate } }));
  }
  return entries;
}

export function auditConsumer(deps: RecorderDeps): EventConsumer<{ audit: typeof auditServiceRef }> {
  const record = async (events: readonly EventEnvelope[], store: AuditStore): Promise<void> => {
    const entries = events.flatMap((event) => recordedEntries(event, deps.config));
    if (entries.length === 0) return;
    // One statement for all of them: a run of pull events is one insert, not one per event.
    if (deps.config.store) await store.insert(entries);
    if (deps.forward) for (const entry of entries) deps.forward.info({ audit: viewOf(entry) }, 'audit');
  };
  return {
    name: CONSUMER_NAME,
    types: auditedTypes(deps.config),
    concurrency: 4,
    deps: { audit: auditServiceRef },
    handle: ({ event }, { audit }) => record([event], audit.store),
    handleBatch: ({ events }, { audit }) => record(events, audit.store),
  };
}
