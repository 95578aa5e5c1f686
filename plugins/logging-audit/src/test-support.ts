import { randomUUID } from 'node:crypto';
import type { EventActor, EventEnvelope } from '@wharf/sdk';
import type { AuditEntry } from './entries.js';

/** Helpers shared by the plugin's tests. */

let seq = 0;

/** An event envelope as the event service would deliver it. */
export function envelope<T>(type: string, data: T, options: { at?: number; actor?: EventActor | undefined; ip?: string } = {}): EventEnvelope<T> {
  return {
    id: randomUUID(),
    seq: ++seq,
    type,
    occurredAt: new Date(options.at ?? Date.now()),
    partition: 'test',
    actor: 'actor' in options ? options.actor : { subject: 'alice', kind: 'user', provider: 'db' },
    request: { requestId: `req-${seq}`, ip: options.ip ?? '192.0.2.7', userAgent: 'test-agent' },
    data,
  };
}

/** A stored-shape entry with only what a test cares about set. */
export function entry(fields: Partial<AuditEntry> & { time: Date }): AuditEntry {
  return {
    eventId: randomUUID(),
    part: 0,
    actor: 'alice',
    actorKind: 'user',
    actorProvider: 'db',
    clientAddress: '192.0.2.7',
    operation: 'push',
    resourceType: 'artifact',
    resource: 'lib/app@sha256:00',
    project: 'lib',
    result: 'success',
    requestId: 'req',
    count: 1,
    detail: {},
    ...fields,
  };
}

/** Polls `probe` until it returns something other than undefined (or fails after `ms`). */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
