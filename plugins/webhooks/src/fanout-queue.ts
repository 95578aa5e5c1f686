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

interface Row {
  seq: number | string;
  event_id: string;
  event: string;
  policies: string;
  created_at: number | string;
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
   * Turns up to `limit` of the oldest queued events into delivery rows, due at `now`, in one
   * transaction; policies deleted since are left out. Returns how many events it took.
   */
  async materialize(limit: number, now = Date.now()): Promise<number> {
    const select = this.#statement('oldest', (q) => `select ${['seq', 'event_id', 'event', 'policies', 'created_at'].map(q).join(', ')} from ${q(TABLES.fanouts)} order by ${q('seq')} asc limit ?`);
    const { rows } = await this.database.execute<Row>(select, [limit]);
    if (rows.length === 0) return 0;
    try {
      await this.#materializeRows(rows, now);
      return rows.length;
    } catch (err) {
      if (rows.length === 1) throw err;
      // One event that cannot be written must not stop the ones behind it: each on its own,
      // the failing one stays queued (and is tried again on every look) and is reported.
      let done = 0;
      let failure: unknown;
      for (const row of rows) {
        try {
          await this.#materializeRows([row], now);
          done++;
        } catch (one) {
          failure ??= new Error(`queued webhook event ${row.event_id}: ${one instanceof Error ? one.message : String(one)}`);
        }
      }
      if (done === 0) throw failure;
      this.onStuck?.(failure);
      return done;
    }
  }

  /** Told about a queued event that could not become deliveries while others could (logged by the worker). */
  onStuck: ((err: unknown) => void) | undefined;

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
}
