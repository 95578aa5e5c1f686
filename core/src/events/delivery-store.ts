import type { Knex } from 'knex';
import type { ConsumerStatus, EventEnvelope } from '@wharf/sdk';
import { chunks } from '../metadata/sql.js';
import { bigint, int, json, optionalString, string } from '../metadata/decode.js';
import { dialectOf } from '../metadata/connection.js';
import { withSqliteConnection, type SqliteConnection } from '../metadata/sqlite-direct.js';
import { claimWaitingSqlite, completeRunsSqlite } from './sqlite-delivery.js';

/**
 * SQL of event delivery. Every state change is one conditional UPDATE naming the state it
 * expects, so nodes sharing the database need no locks: the node whose UPDATE changed the row
 * owns the delivery. Order per partition: a pending row is claimable only when no earlier row
 * of its partition is still pending or running for the same consumer.
 */

export type DeliveryStatus = 'pending' | 'running' | 'delivered' | 'dead';
const OPEN: DeliveryStatus[] = ['pending', 'running'];

/** A delivery a node has claimed, with its event. */
export interface ClaimedDelivery {
  readonly consumer: string;
  readonly event: EventEnvelope;
  readonly attempt: number;
}

/** A delivery as the API lists it. */
export interface DeliveryRecord {
  readonly consumer: string;
  readonly seq: number;
  readonly eventId: string;
  readonly type: string;
  readonly partition: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly lastError: string | undefined;
  readonly occurredAt: Date;
  readonly finishedAt: Date | undefined;
}

const MAX_ERROR = 1000;
/** Partitions claimed in one statement, and sequence numbers named in one `IN (...)`. */
const HEADS_PER_CLAIM = 50;
const SEQS_PER_STATEMENT = 500;

/** The first delivery of a partition that may start now (see {@link DeliveryStore.candidates}). */
export interface Head {
  readonly seq: number;
  readonly partition: string;
}

/**
 * How long a finished run's completion may wait, on SQLite, for a pull batch's transaction to
 * carry it (see {@link DeliveryStore.completeRun}).
 */
const COMPLETION_CARRY_MS = 5;

interface QueuedCompletion {
  readonly consumer: string;
  readonly seqs: readonly number[];
  readonly holder: string;
  readonly resolve: (held: number) => void;
  readonly reject: (err: unknown) => void;
}

/** Completions taken into a caller's transaction on the SQLite connection. */
export interface CarriedCompletions {
  /** Marks them delivered, inside the caller's transaction. */
  apply(db: SqliteConnection): void;
  /** After the commit: each run learns how many deliveries its holder still held. */
  settle(): void;
  /** The transaction failed: they wait for the next one (or their own). */
  requeue(): void;
}

export class DeliveryStore {
  /** On SQLite the delivery loop's hot path runs on the connection itself (sqlite-delivery.ts). */
  readonly #sqlite: boolean;
  /** SQLite: finished runs not yet marked delivered, written together (see completeRun). */
  #completions: QueuedCompletion[] = [];
  #completionTimer: NodeJS.Timeout | undefined;
  #completionImmediate: NodeJS.Immediate | undefined;
  /** SQLite: whether a write that will carry completions is under way (the pull batch's). */
  #carrier: () => boolean = () => false;

  constructor(
    readonly knex: Knex,
    readonly now: () => number = Date.now,
  ) {
    this.#sqlite = dialectOf(knex) === 'sqlite';
  }

  /**
   * What one pass of the delivery loop does per consumer: {@link candidates}, then
   * {@link claimRuns} of them. Resolves how many heads were found (to tell whether the consumer
   * had more waiting than it had slots for) and the runs claimed.
   */
  async claimWaiting(consumer: string, limit: number, max: number, holder: string, leaseMs: number): Promise<{ heads: number; runs: ClaimedDelivery[][] }> {
    if (this.#sqlite) {
      const now = this.now();
      const found = await withSqliteConnection(this.knex, (db) => claimWaitingSqlite(db, { consumer, limit, max, holder, leaseMs, now }));
      return { heads: found.heads, runs: found.runs.map((run) => run.map((row) => ({ consumer, attempt: int(row, 'attempts'), event: envelopeOf(row) }))) };
    }
    const heads = await this.candidates(consumer, limit);
    if (heads.length === 0) return { heads: 0, runs: [] };
    return { heads: heads.length, runs: await this.claimRuns(consumer, heads, max, holder, leaseMs) };
  }

  /** The consumer's deliveries that may start now: the head of each waiting partition, oldest first. */
  async candidates(consumer: string, limit: number): Promise<Head[]> {
    const knex = this.knex;
    const rows = (await knex('event_deliveries as d')
      .select('d.seq', 'd.partition_key')
      .where('d.consumer', consumer)
      .andWhere('d.status', 'pending')
      .andWhere('d.available_at', '<=', this.now())
      .whereNotExists(function earlierOpen() {
        this.select(knex.raw('1'))
          .from('event_deliveries as p')
          .whereRaw('p.consumer = d.consumer')
          .andWhereRaw('p.partition_key = d.partition_key')
          .andWhereRaw('p.seq < d.seq')
          .whereIn('p.status', OPEN);
      })
      .orderBy('d.seq')
      .limit(limit)) as Array<Record<string, unknown>>;
    return rows.map((r) => ({ seq: bigint(r, 'seq'), partition: string(r, 'partition_key') }));
  }

  /** Takes one pending delivery (the head of its partition); `undefined` when another node took it first. */
  async claim(consumer: string, seq: number, holder: string, leaseMs: number): Promise<ClaimedDelivery | undefined> {
    const row = (await this.knex('event_deliveries').where({ consumer, seq }).first('partition_key')) as Record<string, unknown> | undefined;
    if (!row) return undefined;
    return (await this.claimRun(consumer, { seq, partition: string(row, 'partition_key') }, 1, holder, leaseMs))[0];
  }

  /** Takes one run (see {@link claimRuns}); empty when another node took its head first. */
  async claimRun(consumer: string, head: Head, max: number, holder: string, leaseMs: number): Promise<ClaimedDelivery[]> {
    return (await this.claimRuns(consumer, [head], max, holder, leaseMs))[0] ?? [];
  }

  /**
   * Takes runs: for each head (of a different partition), the head and up to `max - 1`
   * pending deliveries after it, so a busy partition (a hot repository's pulls) is not limited
   * to one event per round trip. All the runs cost three statements together: read the pending
   * rows, one UPDATE, read what this node got. A run stops before a delivery that is not yet
   * due. A run that did not get its head (another node took it first) is handed back at once:
   * holding later events while another node delivers earlier ones would break the order.
   * Resolves the runs claimed, each in order, in the order of `heads`.
   */
  async claimRuns(consumer: string, heads: readonly Head[], max: number, holder: string, leaseMs: number): Promise<ClaimedDelivery[][]> {
    const out: ClaimedDelivery[][] = [];
    for (const group of chunks(heads, HEADS_PER_CLAIM)) out.push(...(await this.claimGroup(consumer, group, max, holder, leaseMs)));
    return out;
  }

  private async claimGroup(consumer: string, heads: readonly Head[], max: number, holder: string, leaseMs: number): Promise<ClaimedDelivery[][]> {
    const knex = this.knex;
    const now = this.now();
    // One `select * from (<a partition's first rows>) union all ...`: each partition limited
    // on its own index range, so a long backlog in one partition is never read whole.
    const pendingOf = (head: Head, i: number) =>
      knex.select('*').from(
        knex('event_deliveries')
          .select('seq', 'partition_key', 'available_at')
          .where({ consumer, partition_key: head.partition, status: 'pending' })
          .andWhere('seq', '>=', head.seq)
          .orderBy('seq')
          .limit(max)
          .as(`r${i}`),
      );
    const [first, ...rest] = heads.map(pendingOf);
    if (!first) return [];
    const rows = (await (rest.length > 0 ? first.unionAll(rest) : first)) as Array<Record<string, unknown>>;
    const byPartition = new Map<string, Array<{ seq: number; due: boolean }>>();
    for (const r of rows) {
      const partition = string(r, 'partition_key');
      byPartition.set(partition, [...(byPartition.get(partition) ?? []), { seq: bigint(r, 'seq'), due: bigint(r, 'available_at') <= now }]);
    }
    const wanted: number[] = [];
    for (const head of heads) {
      const pending = (byPartition.get(head.partition) ?? []).sort((a, b) => a.seq - b.seq);
      if (pending[0]?.seq !== head.seq) continue;
      for (const p of pending) {
        if (!p.due) break;
        wanted.push(p.seq);
      }
    }
    if (wanted.length === 0) return [];
    let changed = 0;
    for (const seqs of chunks(wanted, SEQS_PER_STATEMENT)) {
      changed += await knex('event_deliveries')
        .where({ consumer, status: 'pending' })
        .whereIn('seq', seqs)
        .update({ status: 'running', holder, lease_until: now + leaseMs, attempts: knex.raw('attempts + 1') });
    }
    if (changed === 0) return [];
    const claimed: Array<Record<string, unknown>> = [];
    for (const seqs of chunks(wanted, SEQS_PER_STATEMENT)) {
      claimed.push(
        ...((await knex('event_deliveries as d')
          .join('events as e', 'e.seq', 'd.seq')
          .where({ 'd.consumer': consumer, 'd.status': 'running', 'd.holder': holder })
          .whereIn('d.seq', seqs)
          .select('d.attempts', 'e.seq', 'e.id', 'e.type', 'e.partition_key', 'e.body', 'e.occurred_at')) as Array<Record<string, unknown>>),
      );
    }
    const runs = new Map<string, ClaimedDelivery[]>();
    for (const row of claimed) {
      const delivery = { consumer, attempt: int(row, 'attempts'), event: envelopeOf(row) };
      runs.set(delivery.event.partition, [...(runs.get(delivery.event.partition) ?? []), delivery]);
    }
    const out: ClaimedDelivery[][] = [];
    for (const head of heads) {
      const run = (runs.get(head.partition) ?? []).sort((a, b) => a.event.seq - b.event.seq);
      if (run.length === 0) continue;
      if (run[0]!.event.seq === head.seq) out.push(run);
      else await this.releaseRun(consumer, run.map((c) => c.event.seq), holder);
    }
    return out;
  }

  /** Extends the lease of a node's running deliveries; `false` when it holds none of them any more. */
  async renew(consumer: string, seqs: readonly number[], holder: string, leaseMs: number): Promise<boolean> {
    const changed = await this.knex('event_deliveries').where({ consumer, status: 'running', holder }).whereIn('seq', seqs).update({ lease_until: this.now() + leaseMs });
    return changed > 0;
  }

  /**
   * Marks delivered the given running deliveries of this holder; resolves how many it held.
   * On SQLite the completions of runs that end close together are written in one transaction:
   * the next pull batch's when one is under way (within {@link COMPLETION_CARRY_MS}), else one
   * of their own at the next turn of the event loop. Until then the rows stay running under
   * this node's lease, so a crash meanwhile delivers them again (at least once, as before).
   */
  async completeRun(consumer: string, seqs: readonly number[], holder: string): Promise<number> {
    if (seqs.length === 0) return 0;
    if (this.#sqlite) {
      return new Promise<number>((resolve, reject) => {
        this.#completions.push({ consumer, seqs, holder, resolve, reject });
        if (this.#completionTimer || this.#completionImmediate) return;
        if (this.#carrier()) this.#completionTimer = setTimeout(() => void this.flushCompletions(), COMPLETION_CARRY_MS);
        else this.#completionImmediate = setImmediate(() => void this.flushCompletions());
      });
    }
    return this.knex('event_deliveries')
      .where({ consumer, status: 'running', holder })
      .whereIn('seq', seqs)
      .update({ status: 'delivered', holder: null, lease_until: null, finished_at: this.now(), last_error: null });
  }

  /** Tells the store whether a write that takes completions along (the pull batch's) is under way. */
  carryCompletionsWhile(carrier: () => boolean): void {
    this.#carrier = carrier;
  }

  /** Takes the queued completions into a caller's transaction on the SQLite connection. */
  takeCompletions(): CarriedCompletions | undefined {
    if (this.#completions.length === 0) return undefined;
    const items = this.#completions;
    this.#completions = [];
    this.cancelCompletionFlush();
    let held: number[] = [];
    return {
      apply: (db) => {
        held = completeRunsSqlite(db, items, this.now());
      },
      settle: () => items.forEach((c, i) => c.resolve(held[i] ?? 0)),
      requeue: () => {
        this.#completions.unshift(...items);
        if (!this.#completionImmediate) this.#completionTimer ??= setTimeout(() => void this.flushCompletions(), COMPLETION_CARRY_MS);
      },
    };
  }

  private cancelCompletionFlush(): void {
    clearTimeout(this.#completionTimer);
    clearImmediate(this.#completionImmediate);
    this.#completionTimer = undefined;
    this.#completionImmediate = undefined;
  }

  /** Writes the queued completions in a transaction of their own. */
  private async flushCompletions(): Promise<void> {
    this.cancelCompletionFlush();
    const items = this.#completions;
    if (items.length === 0) return;
    this.#completions = [];
    try {
      const now = this.now();
      const held = await withSqliteConnection(this.knex, (db) => db.transaction(() => completeRunsSqlite(db, items, now)).immediate());
      items.forEach((c, i) => c.resolve(held[i] ?? 0));
    } catch (err) {
      for (const c of items) c.reject(err);
    }
  }

  /** Hands running deliveries back untried (their attempt does not count). */
  async releaseRun(consumer: string, seqs: readonly number[], holder: string): Promise<number> {
    if (seqs.length === 0) return 0;
    return this.knex('event_deliveries')
      .where({ consumer, status: 'running', holder })
      .whereIn('seq', seqs)
      .update({ status: 'pending', holder: null, lease_until: null, attempts: this.knex.raw('attempts - 1') });
  }

  async complete(consumer: string, seq: number, holder: string): Promise<boolean> {
    const changed = await this.knex('event_deliveries')
      .where({ consumer, seq, status: 'running', holder })
      .update({ status: 'delivered', holder: null, lease_until: null, finished_at: this.now(), last_error: null });
    return changed === 1;
  }

  /** Records a failed delivery: pending again at `retryAt`, or dead when `retryAt` is undefined. */
  async fail(consumer: string, seq: number, holder: string, error: string, retryAt: number | undefined): Promise<boolean> {
    const update =
      retryAt === undefined
        ? { status: 'dead', finished_at: this.now() }
        : { status: 'pending', available_at: retryAt };
    const changed = await this.knex('event_deliveries')
      .where({ consumer, seq, status: 'running', holder })
      .update({ ...update, holder: null, lease_until: null, last_error: error.slice(0, MAX_ERROR) });
    return changed === 1;
  }

  /** Hands deliveries whose node stopped renewing (it died) back to every node. */
  async reap(): Promise<number> {
    return this.knex('event_deliveries')
      .where('status', 'running')
      .andWhere('lease_until', '<', this.now())
      .update({ status: 'pending', holder: null, lease_until: null, available_at: this.now() });
  }

  /** Gives a node's running deliveries back at shutdown (the attempt does not count). */
  async release(holder: string): Promise<number> {
    return this.knex('event_deliveries')
      .where({ status: 'running', holder })
      .update({ status: 'pending', holder: null, lease_until: null, attempts: this.knex.raw('attempts - 1') });
  }

  /** Backlog per consumer. */
  async status(names: readonly string[], types: (name: string) => readonly string[]): Promise<ConsumerStatus[]> {
    if (names.length === 0) return [];
    const counts = (await this.knex('event_deliveries')
      .select('consumer', 'status')
      .count({ n: '*' })
      .min({ oldest: 'created_at' })
      .whereIn('consumer', names)
      .groupBy('consumer', 'status')) as Array<Record<string, unknown>>;
    const now = this.now();
    const out: ConsumerStatus[] = [];
    for (const name of names) {
      const of = (status: DeliveryStatus) => counts.find((c) => c['consumer'] === name && c['status'] === status);
      const count = (status: DeliveryStatus) => { const row = of(status); return row ? bigint(row, 'n') : 0; };
      const oldestOpen = OPEN.map((s) => of(s)).filter((r) => r !== undefined).map((r) => bigint(r!, 'oldest'));
      const errorRow = (await this.knex('event_deliveries')
        .where('consumer', name)
        .whereIn('status', ['pending', 'dead'])
        .whereNotNull('last_error')
        .orderBy('seq', 'desc')
        .first('last_error')) as Record<string, unknown> | undefined;
      out.push({
        name,
        types: types(name),
        pending: count('pending'),
        running: count('running'),
        dead: count('dead'),
        delivered: count('delivered'),
        lagMs: oldestOpen.length === 0 ? 0 : Math.max(0, now - Math.min(...oldestOpen)),
        lastError: errorRow ? optionalString(errorRow, 'last_error') : undefined,
      });
    }
    return out;
  }

  /** One page of a consumer's deliveries in a status, newest first. */
  async list(consumer: string, status: DeliveryStatus, page: { limit: number; offset?: number }): Promise<DeliveryRecord[]> {
    const query = this.knex('event_deliveries as d')
      .join('events as e', 'e.seq', 'd.seq')
      .where({ 'd.consumer': consumer, 'd.status': status })
      .orderBy('d.seq', 'desc')
      .limit(page.limit)
      .offset(page.offset ?? 0)
      .select('d.consumer', 'd.seq', 'd.status', 'd.attempts', 'd.last_error', 'd.finished_at', 'e.id', 'e.type', 'e.partition_key', 'e.occurred_at');
    const rows = (await query) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      consumer: string(r, 'consumer'),
      seq: bigint(r, 'seq'),
      eventId: string(r, 'id'),
      type: string(r, 'type'),
      partition: string(r, 'partition_key'),
      status: string(r, 'status') as DeliveryStatus,
      attempts: int(r, 'attempts'),
      lastError: optionalString(r, 'last_error'),
      occurredAt: new Date(bigint(r, 'occurred_at')),
      finishedAt: r['finished_at'] === null || r['finished_at'] === undefined ? undefined : new Date(bigint(r, 'finished_at')),
    }));
  }

  async count(consumer: string, status: DeliveryStatus): Promise<number> {
    const [row] = (await this.knex('event_deliveries').where({ consumer, status }).count({ n: '*' })) as Array<Record<string, unknown>>;
    return row ? bigint(row, 'n') : 0;
  }

  /** Puts dead deliveries back in the queue (one, or all of the consumer's); resolves how many. */
  async retryDead(consumer: string, seq?: number): Promise<number> {
    const query = this.knex('event_deliveries').where({ consumer, status: 'dead' });
    if (seq !== undefined) query.andWhere('seq', seq);
    return query.update({ status: 'pending', attempts: 0, available_at: this.now(), finished_at: null });
  }

  /**
   * Deletes finished deliveries older than the cutoffs, then events nobody still has to
   * receive, `batch` rows per statement so no statement holds locks for long.
   */
  async purge(cutoffs: { delivered: number; dead: number }, batch: number): Promise<{ deliveries: number; events: number }> {
    let deliveries = 0;
    for (const [status, before] of [['delivered', cutoffs.delivered], ['dead', cutoffs.dead]] as const) {
      for (;;) {
        const keys = (await this.knex('event_deliveries')
          .select('consumer', 'seq')
          .where('status', status)
          .andWhere('finished_at', '<', before)
          .limit(batch)) as Array<Record<string, unknown>>;
        if (keys.length === 0) break;
        const byConsumer = new Map<string, number[]>();
        for (const k of keys) {
          const name = string(k, 'consumer');
          byConsumer.set(name, [...(byConsumer.get(name) ?? []), bigint(k, 'seq')]);
        }
        for (const [consumer, seqs] of byConsumer) {
          deliveries += await this.knex('event_deliveries').where({ consumer, status }).whereIn('seq', seqs).delete();
        }
        if (keys.length < batch) break;
      }
    }
    let events = 0;
    // An event whose last delivery row is gone has no one left to receive it.
    const oldestKept = Math.min(cutoffs.delivered, cutoffs.dead);
    for (;;) {
      const knex = this.knex;
      const orphans = (await knex('events as e')
        .select('e.seq')
        .where('e.occurred_at', '<', oldestKept)
        .whereNotExists(function pendingDelivery() {
          this.select(knex.raw('1')).from('event_deliveries as d').whereRaw('d.seq = e.seq');
        })
        .limit(batch)) as Array<Record<string, unknown>>;
      if (orphans.length === 0) break;
      for (const seqs of chunks(orphans.map((o) => bigint(o, 'seq')), 500)) events += await this.knex('events').whereIn('seq', seqs).delete();
      if (orphans.length < batch) break;
    }
    return { deliveries, events };
  }
}

/** An event as a claim reads it back (a row of `events`). */
export function envelopeOf(row: Record<string, unknown>): EventEnvelope {
  const body = json(row, 'body') as { data?: unknown; actor?: EventEnvelope['actor']; request?: EventEnvelope['request'] };
  return {
    id: string(row, 'id'),
    seq: bigint(row, 'seq'),
    type: string(row, 'type'),
    partition: string(row, 'partition_key'),
    occurredAt: new Date(bigint(row, 'occurred_at')),
    actor: body.actor,
    request: body.request,
    data: body.data,
  };
}
