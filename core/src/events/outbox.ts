import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { EventActor, EventDraft, EventRequest } from '@wharf/sdk';
import { dialectOf } from '../metadata/connection.js';
import { chunks, toNumber } from '../metadata/sql.js';
import type { Subscriptions } from './subscriptions.js';

/**
 * The write side of the outbox: an event row plus one delivery row per subscribed consumer,
 * inside the caller's transaction, so the events exist exactly when the change does.
 */

const MAX_PARTITION = 255;

/** What is stored beside the event's type and partition. */
export interface EventBody {
  readonly data: unknown;
  readonly actor?: EventActor | undefined;
  readonly request?: EventRequest | undefined;
}

/** Only the fields an envelope promises: no stray principal claims or request details. */
function bodyOf(draft: EventDraft<unknown>): EventBody {
  const actor = draft.actor ? { subject: draft.actor.subject, kind: draft.actor.kind, provider: draft.actor.provider } : undefined;
  const request = draft.request
    ? { requestId: draft.request.requestId, ip: draft.request.ip, ...(draft.request.userAgent ? { userAgent: draft.request.userAgent.slice(0, 512) } : {}) }
    : undefined;
  return { data: draft.data, ...(actor ? { actor } : {}), ...(request ? { request } : {}) };
}

/** A consumer and a partition it has new deliveries in: what the delivery loop is woken for. */
export interface DeliveryTarget {
  readonly consumer: string;
  readonly partition: string;
}

/**
 * Writes the drafts that some consumer receives; the others are dropped (nobody would read
 * them). Resolves where deliveries were written (empty when no event was).
 */
export async function writeEvents(
  trx: Knex | Knex.Transaction,
  drafts: ReadonlyArray<EventDraft<unknown>>,
  subscriptions: Subscriptions,
  now: number,
): Promise<DeliveryTarget[]> {
  const wanted = drafts
    .map((draft) => ({ draft, consumers: subscriptions.consumersOf(draft.type.name) }))
    .filter((w) => w.consumers.length > 0);
  if (wanted.length === 0) return [];
  const rows = wanted.map(({ draft }) => ({
    id: randomUUID(),
    type: draft.type.name,
    partition_key: String(draft.partition).slice(0, MAX_PARTITION),
    body: JSON.stringify(bodyOf(draft)),
    occurred_at: now,
  }));
  const seqById = new Map<string, number>();
  for (const chunk of chunks(rows, 200)) {
    if (dialectOf(trx as Knex) === 'mysql') {
      await trx('events').insert(chunk);
      const found = (await trx('events').select('seq', 'id').whereIn('id', chunk.map((r) => r.id))) as Array<{ seq: unknown; id: string }>;
      for (const r of found) seqById.set(r.id, toNumber(r.seq));
    } else {
      const inserted = (await trx('events').insert(chunk).returning(['seq', 'id'])) as Array<{ seq: unknown; id: string }>;
      for (const r of inserted) seqById.set(r.id, toNumber(r.seq));
    }
  }
  const deliveries = wanted.flatMap(({ consumers }, i) => {
    const row = rows[i]!;
    const seq = seqById.get(row.id);
    if (seq === undefined) throw new Error(`event ${row.id} was not stored`);
    return consumers.map((consumer) => ({
      consumer,
      seq,
      partition_key: row.partition_key,
      status: 'pending',
      attempts: 0,
      available_at: now,
      created_at: now,
    }));
  });
  for (const chunk of chunks(deliveries, 200)) await trx('event_deliveries').insert(chunk);
  const targets = new Map<string, DeliveryTarget>();
  for (const d of deliveries) targets.set(JSON.stringify([d.consumer, d.partition_key]), { consumer: d.consumer, partition: d.partition_key });
  return [...targets.values()];
}
