import type { DatabaseService } from '@wharf/sdk';
import type { DeliveryStore, NewDelivery, Statement, StoredEvent } from './delivery-store.js';
import { TABLES } from './migrations.js';
import { statement, type Quote } from './statements.js';
import type { StoredTarget } from './policy-store.js';

/**
 * Events waiting to become delivery rows. The fan-out consumer queues one row per event (the
 * event once, with the policies and targets it goes to) instead of one delivery row per
 * (policy, target): a push then costs one small INSERT on the connection pushes share, where it
 * cost ten rows carrying ten copies of the payload. A worker turns queued events into delivery
 * rows when it has slots that no due row fills ({@link FanoutQueue.materialize}), so a backlog
 * behind slow receivers stays one row per event until its deliveries can start, and a receiver
 * that keeps up gets its rows as soon as the worker looks.
 *
 * Durable: the queue row is written before the event is acknowledged; materializing inserts the
 * delivery rows and deletes the queue rows in one transaction, skipping delivery rows that exist,
 * so two nodes doing it at once write each delivery once.
 *
 * An event that cannot become deliveries while the database answers (nothing the fan-out writes
 * should do that; a row changed by hand could) is tried again after 1 s, 2 s, 4 s… up to
 * 5 minutes, and set aside after MAX_ATTEMPTS: it stays in the table with its last error for an
 * operator to fix or delete, and is never dropped on its own.
 */

/** A policy an event goes to, as it was when the event was queued. */
export interface QueuedPolicy {
  readonly id: number;
  readonly project: string;
  readonly name: string;
  readonly targets: readonly StoredTarget[];
}

/** The stored event less what differs per policy. */
export type QueuedEvent = Omit<StoredEvent, 'source' | 'policyName'>;

export interface Fanout {
  readonly eventId: string;
  readonly event: QueuedEvent;
  readonly policies: readonly QueuedPolicy[];
}

/** The event as one policy's deliveries carry it. */
export function eventFor(event: QueuedEvent, policy: Pick<QueuedPolicy, 'id' | 'project' | 'name'>): StoredEvent {
  return { ...event, source: `/projects/${policy.project}/webhook/policies/${policy.id}`, policyName: policy.name };
}

/** The delivery rows of queued events, one per (event, policy, target). */
export function deliveryRows(fanouts: ReadonlyArray<Fanout & { readonly createdAt?: number }>): NewDelivery[] {
  return fanouts.flatMap(({ eventId, event, policies, createdAt }) =>
    policies.flatMap((policy) => {
      const stored = eventFor(event, policy);
      return policy.targets.map((target, targetIndex) => ({ policyId: policy.id, eventId, targetIndex, target, event: stored, createdAt }));
    }),
  );
}

/** Queue rows per INSERT: 4 bound values each. */
const ROWS_PER_INSERT = 100;
/** Tries of an event that fails on its own before it is set aside (about 17 minutes of backoff). */
export const MAX_ATTEMPTS = 10;
const MAX_BACKOFF_MS = 5 * 60_000;
/** `next_try_at` of an event set aside: never due. */
const SET_ASIDE = Number.MAX_SAFE_INTEGER;

/** A queued event that failed on its own, as told to {@link FanoutQueue.onStuck}. */
export interface StuckEvent {
  readonly eventId: string;
  /** Tries so far, this one included. */
  readonly attempts: number;
  /** The last try: the event stays in the table, never tried again until an operator resets it. */
  readonly setAside: boolean;
  /** When it is tried again (ms since the epoch); `undefined` once set aside. */
  readonly nextTryAt: number | undefined;
  readonly error: string;
}

interface Row {
  seq: number | string;
  event_id: string;
  event: string;
  policies: string;
  created_at: number | string;
  attempts: number | string;
}

export class FanoutQueue {
  constructor(
    private readonly database: DatabaseService,
    private readonly deliveries: DeliveryStore,
  ) {}

  /** A statement of the queue, written out once (see statements.ts). */
  #statement(key: string, write: (q: Quote) => string): string {
    return statement(this.database.dialect, `fanouts:${key}`, write);
  }

  /** Queues events; an event queued before (delivered again after a crash) is left as it is. */
  async add(fanouts: readonly Fanout[], now = Date.now()): Promise<void> {
    for (let i = 0; i < fanouts.length; i += ROWS_PER_INSERT) {
      const chunk = fanouts.slice(i, i + ROWS_PER_INSERT);
      const sql = this.#statement(`add:${chunk.length}`, (q) => {
        const columns = ['event_id', 'event', 'policies', 'created_at'].map(q).join(', ');
        const values = chunk.map(() => '(?, ?, ?, ?)').join(', ');
        return this.database.dialect === 'mysql'
          ? `insert ignore into ${q(TABLES.fanouts)} (${columns}) values ${values}`
          : `insert into ${q(TABLES.fanouts)} (${columns}) values ${values} on conflict (${q('event_id')}) do nothing`;
      });
      await this.database.execute(sql, chunk.flatMap((f) => [f.eventId, JSON.stringify(f.event), JSON.stringify(f.policies), now]));
    }
  }

  /**
   * Turns up to `limit` of the oldest due queued events into delivery rows, due at `now`, in one
   * transaction; policies deleted since are left out. Returns how many events it took.
   */
  async materialize(limit: number, now = Date.now()): Promise<number> {
    const select = this.#statement('oldest', (q) => `select ${['seq', 'event_id', 'event', 'policies', 'created_at', 'attempts'].map(q).join(', ')} from ${q(TABLES.fanouts)} where ${q('next_try_at')} <= ? order by ${q('seq')} asc limit ?`);
    const { rows } = await this.database.execute<Row>(select, [now, limit]);
    if (rows.length === 0) return 0;
    try {
      await this.#materializeRows(rows, now);
      return rows.length;
    } catch {
      // One event that cannot be written must not stop the ones behind it: each on its own; one
      // that fails is tried again later (see the class comment). When the database does not
      // answer, recording the failure fails too, and that error goes to the caller.
      let done = 0;
      for (const row of rows) {
        try {
          await this.#materializeRows([row], now);
          done++;
        } catch (one) {
          this.onStuck?.(await this.#failed(row, one, now));
        }
      }
      return done;
    }
  }

  /** Told about each queued event that failed on its own (logged by the plugin). */
  onStuck: ((stuck: StuckEvent) => void) | undefined;

  async #failed(row: Row, err: unknown, now: number): Promise<StuckEvent> {
    const attempts = Number(row.attempts) + 1;
    const setAside = attempts >= MAX_ATTEMPTS;
    const nextTryAt = setAside ? SET_ASIDE : now + Math.min(1000 * 2 ** (attempts - 1), MAX_BACKOFF_MS);
    const error = (err instanceof Error ? err.message : String(err)).slice(0, 1000);
    const sql = this.#statement('failed', (q) => `update ${q(TABLES.fanouts)} set ${q('attempts')} = ?, ${q('next_try_at')} = ?, ${q('last_error')} = ? where ${q('seq')} = ?`);
    await this.database.execute(sql, [attempts, nextTryAt, error, row.seq]);
    return { eventId: row.event_id, attempts, setAside, nextTryAt: setAside ? undefined : nextTryAt, error };
  }

  async #materializeRows(rows: readonly Row[], now: number): Promise<void> {
    const fanouts = rows.map((r) => ({
      eventId: r.event_id,
      event: JSON.parse(r.event) as QueuedEvent,
      policies: JSON.parse(r.policies) as QueuedPolicy[],
      createdAt: Number(r.created_at),
    }));
    const referenced = [...new Set(fanouts.flatMap((f) => f.policies.map((p) => p.id)))];
    const existing = await this.#existingPolicies(referenced);
    const live = fanouts.map((f) => ({ ...f, policies: f.policies.filter((p) => existing.has(p.id)) }));
    const { statements } = this.deliveries.insertStatements(deliveryRows(live), now);
    const seqs = rows.map((r) => r.seq);
    const remove: Statement = {
      sql: this.#statement(`remove:${seqs.length}`, (q) => `delete from ${q(TABLES.fanouts)} where ${q('seq')} in (${seqs.map(() => '?').join(', ')})`),
      bindings: seqs,
    };
    await this.database.executeMany([...statements, remove]);
  }

  async #existingPolicies(ids: readonly number[]): Promise<Set<number>> {
    if (ids.length === 0) return new Set();
    const sql = this.#statement(`policies:${ids.length}`, (q) => `select ${q('id')} from ${q(TABLES.policies)} where ${q('id')} in (${ids.map(() => '?').join(', ')})`);
    const { rows } = await this.database.execute<{ id: number | string }>(sql, ids);
    return new Set(rows.map((r) => Number(r.id)));
  }

  /** Events queued and not yet turned into deliveries. */
  async size(): Promise<number> {
    const [row] = await this.database.knex(TABLES.fanouts).count<{ n: number | string }[]>({ n: '*' });
    return Number(row?.n ?? 0);
  }

  /** One pass over the queue (for /metrics): all queued events, and of those the ones that failed on their own. */
  async counts(): Promise<{ queued: number; waiting: number; setAside: number }> {
    const sql = this.#statement('counts', (q) =>
      `select count(*) as ${q('queued')}, ` +
      `sum(case when ${q('attempts')} > 0 and ${q('next_try_at')} < ? then 1 else 0 end) as ${q('waiting')}, ` +
      `sum(case when ${q('next_try_at')} >= ? then 1 else 0 end) as ${q('set_aside')} from ${q(TABLES.fanouts)}`);
    const { rows } = await this.database.execute<{ queued: unknown; waiting: unknown; set_aside: unknown }>(sql, [SET_ASIDE, SET_ASIDE]);
    const row = rows[0];
    return { queued: Number(row?.queued ?? 0), waiting: Number(row?.waiting ?? 0), setAside: Number(row?.set_aside ?? 0) };
  }
}
