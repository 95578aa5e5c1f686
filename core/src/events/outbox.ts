import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { EventActor, EventDraft, EventRequest } from '@wharf/sdk';
import { dialectOf } from '../metadata/connection.js';
import { chunks, toNumber } from '../metadata/sql.js';
import { prepared, type SqliteConnection } from '../metadata/sqlite-direct.js';
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

/** An event row to insert, with the consumers that get a delivery row for it. */
interface EventRow {
  readonly id: string;
  readonly type: string;
  readonly partition_key: string;
  readonly body: string;
  readonly occurred_at: number;
}

/** The drafts some consumer receives, as rows; the others are dropped (nobody would read them). */
function rowsOf(drafts: ReadonlyArray<EventDraft<unknown>>, subscriptions: Subscriptions, now: number): Array<{ row: EventRow; consumers: readonly string[] }> {
  const out: Array<{ row: EventRow; consumers: readonly string[] }> = [];
  for (const draft of drafts) {
    const consumers = subscriptions.consumersOf(draft.type.name);
    if (consumers.length === 0) continue;
    const row = {
      id: randomUUID(),
      type: draft.type.name,
      partition_key: String(draft.partition).slice(0, MAX_PARTITION),
      body: JSON.stringify(bodyOf(draft)),
      occurred_at: now,
    };
    out.push({ row, consumers });
  }
  return out;
}

function deliveryRow(consumer: string, seq: number, partition: string, now: number) {
  return { consumer, seq, partition_key: partition, status: 'pending', attempts: 0, available_at: now, created_at: now };
}

/** The consumers and partitions that got deliveries, once each. */
function targetsOf(written: ReadonlyArray<{ row: EventRow; consumers: readonly string[] }>): DeliveryTarget[] {
  const targets = new Map<string, DeliveryTarget>();
  for (const { row, consumers } of written) {
    for (const consumer of consumers) targets.set(`${consumer}\n${row.partition_key}`, { consumer, partition: row.partition_key });
  }
  return [...targets.values()];
}

/**
 * Writes the drafts that some consumer receives; the others are dropped (nobody would read
 * them). One multi-row insert per table per 200 rows. Resolves where deliveries were written
 * (empty when no event was).
 */
export async function writeEvents(
  trx: Knex | Knex.Transaction,
  drafts: ReadonlyArray<EventDraft<unknown>>,
  subscriptions: Subscriptions,
  now: number,
): Promise<DeliveryTarget[]> {
  const wanted = rowsOf(drafts, subscriptions, now);
  if (wanted.length === 0) return [];
  const rows = wanted.map((w) => w.row);
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
  const deliveries = wanted.flatMap(({ row, consumers }) => {
    const seq = seqById.get(row.id);
    if (seq === undefined) throw new Error(`event ${row.id} was not stored`);
    return consumers.map((consumer) => deliveryRow(consumer, seq, row.partition_key, now));
  });
  for (const chunk of chunks(deliveries, 200)) await trx('event_deliveries').insert(chunk);
  return targetsOf(wanted);
}

const SQLITE_INSERT_EVENT = 'insert into events (id, type, partition_key, body, occurred_at) values (?, ?, ?, ?, ?)';
const SQLITE_INSERT_DELIVERY = `insert into event_deliveries (consumer, seq, partition_key, status, attempts, available_at, created_at)
  values (?, ?, ?, 'pending', 0, ?, ?)`;
const SQLITE_INSERT_CLAIMED = `insert into event_deliveries (consumer, seq, partition_key, status, attempts, holder, lease_until, available_at, created_at)
  values (?, ?, ?, 'running', 1, ?, ?, ?, ?)`;
const SQLITE_OPEN_IN_PARTITION = `select 1 from event_deliveries
  where consumer = ? and partition_key = ? and status in ('pending', 'running') limit 1`;

/**
 * This node's delivery loop taking the deliveries a batch writes in the batch's own transaction
 * (see Dispatcher.inlineClaim): a delivery row is inserted already claimed (running, this
 * node's lease, first attempt) instead of pending and then claimed by a transaction of its own,
 * when the loop has a free slot for the consumer and the partition has no open delivery for it
 * (the order rule of a claim, checked in the same IMMEDIATE transaction).
 */
export interface InlineClaim {
  readonly holder: string;
  readonly leaseUntil: number;
  /** Most events in one run. */
  readonly maxRun: number;
  /** Whether this node starts one more run of the consumer now (a free slot); asked once per run. */
  mayStart(consumer: string): boolean;
}

/** A run claimed while it was written: its events as a claim reads them back. */
export interface InlineRun {
  readonly consumer: string;
  readonly rows: ReadonlyArray<Record<string, unknown>>;
}

/**
 * {@link writeEvents} on SQLite's connection itself, synchronously, inside the caller's
 * better-sqlite3 transaction: cached statements, one row each (no network between them, so
 * a multi-row insert would only add SQL to build). With `claim`, deliveries this node may start
 * are inserted claimed and returned as runs; only the others are targets to wake the loop for.
 */
export function writeEventsSqlite(
  db: SqliteConnection,
  drafts: ReadonlyArray<EventDraft<unknown>>,
  subscriptions: Subscriptions,
  now: number,
  claim?: InlineClaim,
): { targets: DeliveryTarget[]; runs: InlineRun[] } {
  const wanted = rowsOf(drafts, subscriptions, now);
  if (wanted.length === 0) return { targets: [], runs: [] };
  const insertEvent = prepared(db, SQLITE_INSERT_EVENT);
  const insertDelivery = prepared(db, SQLITE_INSERT_DELIVERY);
  /** Per consumer and partition: the run claimed in this batch, or `null` when its rows wait. */
  const runs = new Map<string, { consumer: string; rows: Array<Record<string, unknown>> } | null>();
  const pending: Array<{ row: EventRow; consumers: string[] }> = [];
  for (const { row, consumers } of wanted) {
    const seq = Number(insertEvent.run(row.id, row.type, row.partition_key, row.body, row.occurred_at).lastInsertRowid);
    const waiting: string[] = [];
    for (const consumer of consumers) {
      const key = `${consumer}\n${row.partition_key}`;
      let run = runs.get(key);
      if (run === undefined) {
        const free = claim !== undefined && prepared(db, SQLITE_OPEN_IN_PARTITION).all(consumer, row.partition_key).length === 0 && claim.mayStart(consumer);
        run = free ? { consumer, rows: [] } : null;
        runs.set(key, run);
      }
      if (claim && run && run.rows.length < claim.maxRun) {
        prepared(db, SQLITE_INSERT_CLAIMED).run(consumer, seq, row.partition_key, claim.holder, claim.leaseUntil, now, now);
        run.rows.push({ attempts: 1, seq, ...row });
      } else {
        // A full run leaves the rest of its partition to the loop, in order after it.
        insertDelivery.run(consumer, seq, row.partition_key, now, now);
        waiting.push(consumer);
      }
    }
    if (waiting.length > 0) pending.push({ row, consumers: waiting });
  }
  const claimed = [...runs.values()].filter((r): r is { consumer: string; rows: Array<Record<string, unknown>> } => r !== null && r.rows.length > 0);
  return { targets: targetsOf(pending), runs: claimed };
}
