import { randomBytes } from 'node:crypto';
import type { DatabaseService, WebhookEvent } from '@wharf/sdk';
import { TABLES } from './migrations.js';
import type { StoredTarget } from './policy-store.js';

/**
 * Delivery rows: one per (event, policy, target), written by the fan-out consumer, claimed and
 * finished by the delivery workers of every node. A claim is a conditional UPDATE, so two nodes
 * never both take a due row; a node that dies leaves its row `running` with a lease, which any
 * node takes over once the lease has passed.
 */

export type DeliveryStatus = 'pending' | 'running' | 'succeeded' | 'failed';
const FINISHED: DeliveryStatus[] = ['succeeded', 'failed'];

/** The event as stored on a row: what a target kind gets, less the delivery id (the row's id). */
export type StoredEvent = Omit<WebhookEvent, 'deliveryId'>;

export interface Delivery {
  readonly id: string;
  readonly policyId: number;
  readonly eventId: string;
  readonly targetIndex: number;
  readonly eventType: string;
  readonly targetType: string;
  readonly address: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly responseCode: number | undefined;
  readonly durationMs: number | undefined;
  readonly lastError: string | undefined;
  readonly target: StoredTarget;
  readonly event: StoredEvent;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface NewDelivery {
  readonly policyId: number;
  readonly eventId: string;
  readonly targetIndex: number;
  readonly target: StoredTarget;
  readonly event: StoredEvent;
}

interface Row {
  id: string;
  policy_id: number | string;
  event_id: string;
  target_index: number;
  event_type: string;
  target_type: string;
  address: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number | string;
  lease_until: number | string | null;
  claimed_by: string | null;
  response_code: number | null;
  duration_ms: number | null;
  last_error: string | null;
  target: string;
  event: string;
  created_at: number | string;
  updated_at: number | string;
}

function fromRow(row: Row): Delivery {
  return {
    id: row.id,
    policyId: Number(row.policy_id),
    eventId: row.event_id,
    targetIndex: Number(row.target_index),
    eventType: row.event_type,
    targetType: row.target_type,
    address: row.address,
    status: row.status,
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at),
    responseCode: row.response_code === null ? undefined : Number(row.response_code),
    durationMs: row.duration_ms === null ? undefined : Number(row.duration_ms),
    lastError: row.last_error ?? undefined,
    target: JSON.parse(row.target) as StoredTarget,
    event: JSON.parse(row.event) as StoredEvent,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** What an attempt ended with. */
export interface AttemptOutcome {
  readonly ok: boolean;
  readonly responseCode: number | undefined;
  readonly durationMs: number;
  readonly error: string | undefined;
}

/** One attempt's outcome, for {@link DeliveryStore.finishMany}. */
export interface FinishedAttempt {
  readonly id: string;
  /** The claim that ran it: the row is updated only while that claim still holds it. */
  readonly holder: string;
  readonly attempt: number;
  readonly outcome: AttemptOutcome;
  /** When to try again; `undefined` ends the row (succeeded, or failed after its last attempt). */
  readonly retryAt: number | undefined;
}

/**
 * A UUID version 7 (RFC 9562): the time in ms, then random bits. Rows are inserted in key order,
 * so the unique index on `id` (the clustered key on MySQL) grows at its end instead of touching
 * a random page per row; it is still unique and opaque (`Webhook-Id`, the CloudEvents `id`).
 */
export function timeOrderedId(now: number): string {
  return uuidV7(now, randomBytes(16));
}

function uuidV7(now: number, bytes: Buffer): string {
  bytes.writeUIntBE(Math.max(0, Math.floor(now)) % 2 ** 48, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `count` of {@link timeOrderedId} at once: one call for the random bits of all of them. */
export function timeOrderedIds(now: number, count: number): string[] {
  const random = randomBytes(16 * count);
  return Array.from({ length: count }, (_, i) => uuidV7(now, random.subarray(i * 16, i * 16 + 16)));
}

/** Rows per INSERT: 12 bound values each stays far below every database's limit. */
const ROWS_PER_INSERT = 100;
/** The bound columns of the fan-out's INSERT, in the order `enqueue` binds them. */
const INSERT_COLUMNS = ['id', 'policy_id', 'event_id', 'target_index', 'event_type', 'target_type', 'address', 'target', 'event', 'next_attempt_at', 'created_at', 'updated_at'] as const;
/** Statements written out once: by dialect, and for the fan-out's INSERT by row count. */
const STATEMENTS = new Map<string, string>();

function quoter(dialect: DatabaseService['dialect']): (name: string) => string {
  return dialect === 'mysql' ? (name) => `\`${name}\`` : (name) => `"${name}"`;
}

export class DeliveryStore {
  constructor(private readonly database: DatabaseService) {}

  private get knex() {
    return this.database.knex;
  }

  /**
   * Inserts the rows of one event; rows that exist already (the event came again after a
   * crash) are left as they are. Returns the ids of the rows it wrote.
   */
  async enqueue(rows: readonly NewDelivery[], now = Date.now()): Promise<string[]> {
    if (rows.length === 0) return [];
    const ids = timeOrderedIds(now, rows.length);
    const written = new Set<string>();
    // One statement per chunk, each atomic on its own (no transaction to hold SQLite's one
    // connection across awaits); rows of an event seen before are skipped by the unique key.
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const chunk = rows.slice(i, i + ROWS_PER_INSERT);
      const chunkIds = ids.slice(i, i + ROWS_PER_INSERT);
      const bindings: (string | number)[] = [];
      chunk.forEach((r, n) => {
        bindings.push(chunkIds[n] as string, r.policyId, r.eventId, r.targetIndex, r.event.payload.type, r.target.type, r.target.address.slice(0, 2048));
        bindings.push(JSON.stringify(r.target), JSON.stringify(r.event), now, now, now);
      });
      const result = (await this.knex.raw(this.#insertSql(chunk.length), bindings)) as unknown;
      if (this.database.dialect === 'mysql') {
        // MySQL has no RETURNING: the ids that made it in say which rows were new.
        const stored = (await this.knex(TABLES.deliveries).whereIn('id', chunkIds).select('id')) as { id: string }[];
        for (const r of stored) written.add(r.id);
      } else {
        // SQLite and PostgreSQL return only the rows the statement inserted.
        const returned = Array.isArray(result) ? result : (result as { rows: { id: string }[] }).rows;
        for (const r of returned as { id: string }[]) written.add(r.id);
      }
    }
    return ids.filter((id) => written.has(id));
  }

  /**
   * The fan-out's INSERT for `count` rows, written out once per size: built by knex's query
   * compiler it cost more CPU than the rest of a push's webhook work (bench:webhooks profile).
   */
  #insertSql(count: number): string {
    const key = `${this.database.dialect}:insert:${count}`;
    let sql = STATEMENTS.get(key);
    if (sql === undefined) {
      const mysql = this.database.dialect === 'mysql';
      const q = quoter(this.database.dialect);
      const columns = [...INSERT_COLUMNS, 'status', 'attempts', 'lease_until', 'claimed_by'].map(q).join(', ');
      const row = `(${INSERT_COLUMNS.map(() => '?').join(', ')}, 'pending', 0, NULL, NULL)`;
      const values = Array.from({ length: count }, () => row).join(', ');
      sql = mysql
        ? `insert ignore into ${q(TABLES.deliveries)} (${columns}) values ${values}`
        : `insert into ${q(TABLES.deliveries)} (${columns}) values ${values} on conflict (${['event_id', 'policy_id', 'target_index'].map(q).join(', ')}) do nothing returning ${q('id')}`;
      STATEMENTS.set(key, sql);
    }
    return sql;
  }

  /**
   * Rows due now: pending ones whose time has come (oldest first, leaving out `skipPolicies`, whose
   * rows this node cannot start now), and running ones whose lease has passed. Two queries, each
   * served by the (status, next_attempt_at) index, however long the backlog.
   */
  async due(now: number, limit: number, skipPolicies: readonly number[] = []): Promise<Delivery[]> {
    const pending = this.knex(TABLES.deliveries).where('status', 'pending').andWhere('next_attempt_at', '<=', now);
    if (skipPolicies.length > 0) pending.whereNotIn('policy_id', skipPolicies);
    const rows = (await pending.orderBy('next_attempt_at', 'asc').limit(limit)) as Row[];
    const expired = (await this.knex(TABLES.deliveries).where('status', 'running').andWhere('lease_until', '<', now).limit(limit)) as Row[];
    return [...expired, ...rows].map(fromRow);
  }

  /**
   * The ids and policies of due rows, as {@link due} picks them, without reading the rows' stored
   * events and targets: the worker picks among them and reads only what it claims.
   */
  async dueIds(now: number, limit: number, skipPolicies: readonly number[] = [], options: { expired?: boolean } = {}): Promise<{ id: string; policyId: number }[]> {
    const pending = this.knex(TABLES.deliveries).select('id', 'policy_id').where('status', 'pending').andWhere('next_attempt_at', '<=', now);
    if (skipPolicies.length > 0) pending.whereNotIn('policy_id', skipPolicies);
    const rows = (await pending.orderBy('next_attempt_at', 'asc').limit(limit)) as Pick<Row, 'id' | 'policy_id'>[];
    if (options.expired === false) return rows.map((r) => ({ id: r.id, policyId: Number(r.policy_id) }));
    const expired = (await this.knex(TABLES.deliveries).select('id', 'policy_id').where('status', 'running').andWhere('lease_until', '<', now).limit(limit)) as Pick<Row, 'id' | 'policy_id'>[];
    return [...expired, ...rows].map((r) => ({ id: r.id, policyId: Number(r.policy_id) }));
  }

  /** Takes a due row for `node`; false when another node was first or it is no longer due. */
  async claim(id: string, node: string, now: number, leaseMs: number): Promise<boolean> {
    return (await this.claimMany([id], node, now, leaseMs)).length === 1;
  }

  /**
   * Takes the rows of `ids` that are still due, for `holder` (unique per claim: a node's id and a
   * counter), in one conditional UPDATE: rows another node took first are left out. Returns the
   * rows taken, their `attempts` already counting this attempt.
   */
  async claimMany(ids: readonly string[], holder: string, now: number, leaseMs: number): Promise<Delivery[]> {
    if (ids.length === 0) return [];
    await this.knex(TABLES.deliveries)
      .whereIn('id', ids)
      .andWhere((q) =>
        q
          .where((w) => w.where('status', 'pending').andWhere('next_attempt_at', '<=', now))
          .orWhere((w) => w.where('status', 'running').andWhere('lease_until', '<', now)),
      )
      .update({ status: 'running', lease_until: now + leaseMs, claimed_by: holder, attempts: this.knex.raw('attempts + 1'), updated_at: now });
    const rows = (await this.knex(TABLES.deliveries).whereIn('id', ids).andWhere({ claimed_by: holder, status: 'running' })) as Row[];
    return rows.map(fromRow);
  }

  /**
   * Records an attempt's outcome, if `node` still holds the row with this attempt number (a node
   * that lost its lease does not overwrite the new holder's work).
   */
  async finish(id: string, node: string, attempt: number, outcome: AttemptOutcome, retryAt: number | undefined, now = Date.now()): Promise<void> {
    await this.finishMany([{ id, holder: node, attempt, outcome, retryAt }], now);
  }

  /**
   * Records several outcomes in one transaction: on SQLite one commit instead of one per
   * delivery, and one turn of the single connection that pushes wait for.
   */
  async finishMany(finished: readonly FinishedAttempt[], now = Date.now()): Promise<void> {
    if (finished.length === 0) return;
    if (finished.length === 1) return this.finishOne(finished[0]!, now);
    await this.database.transaction(async () => {
      for (const f of finished) await this.finishOne(f, now);
    });
  }

  private async finishOne({ id, holder, attempt, outcome, retryAt }: FinishedAttempt, now: number): Promise<void> {
    const status: DeliveryStatus = outcome.ok ? 'succeeded' : retryAt === undefined ? 'failed' : 'pending';
    // Written out once, like the fan-out's INSERT: one outcome per delivery is the worker's most
    // frequent statement.
    await this.knex.raw(this.#finishSql(), [
      status, retryAt ?? now, outcome.responseCode ?? null, Math.round(outcome.durationMs),
      outcome.error === undefined ? null : outcome.error.slice(0, 1000), now,
      id, holder, attempt,
    ]);
  }

  #finishSql(): string {
    const key = `${this.database.dialect}:finish`;
    let sql = STATEMENTS.get(key);
    if (sql === undefined) {
      const q = quoter(this.database.dialect);
      const set = ['status', 'next_attempt_at'].map((c) => `${q(c)} = ?`).join(', ') + `, ${q('lease_until')} = NULL, ` + ['response_code', 'duration_ms', 'last_error', 'updated_at'].map((c) => `${q(c)} = ?`).join(', ');
      sql = `update ${q(TABLES.deliveries)} set ${set} where ${q('id')} = ? and ${q('claimed_by')} = ? and ${q('attempts')} = ? and ${q('status')} = 'running'`;
      STATEMENTS.set(key, sql);
    }
    return sql;
  }

  async get(id: string): Promise<Delivery | undefined> {
    const row = (await this.knex(TABLES.deliveries).where({ id }).first()) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async list(policyId: number, page: { page: number; pageSize: number }, status?: string): Promise<{ items: Delivery[]; total: number }> {
    const filtered = () => {
      const q = this.knex(TABLES.deliveries).where({ policy_id: policyId });
      return status === undefined ? q : q.where('status', status);
    };
    const [count] = await filtered().count<{ n: number | string }[]>({ n: '*' });
    const rows = (await filtered().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.pageSize).offset((page.page - 1) * page.pageSize)) as Row[];
    return { items: rows.map(fromRow), total: Number(count?.n ?? 0) };
  }

  /**
   * Trims the history: finished rows older than `maxAgeMs`, and per policy the finished rows
   * beyond the newest `maxPerPolicy`. Pending and running rows are never removed.
   */
  async purge(options: { maxAgeMs: number; maxPerPolicy: number }, now = Date.now()): Promise<number> {
    let removed = await this.knex(TABLES.deliveries).whereIn('status', FINISHED).andWhere('updated_at', '<', now - options.maxAgeMs).delete();
    const crowded = (await this.knex(TABLES.deliveries)
      .select('policy_id')
      .whereIn('status', FINISHED)
      .groupBy('policy_id')
      .having(this.knex.raw('count(*) > ?', [options.maxPerPolicy]))) as { policy_id: number | string }[];
    for (const { policy_id } of crowded) {
      // The newest row past the limit: it and everything older goes.
      const edge = (await this.knex(TABLES.deliveries)
        .where({ policy_id })
        .whereIn('status', FINISHED)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .offset(options.maxPerPolicy)
        .limit(1)
        .first('created_at', 'id')) as { created_at: number | string; id: string } | undefined;
      if (!edge) continue;
      removed += await this.knex(TABLES.deliveries)
        .where({ policy_id })
        .whereIn('status', FINISHED)
        .andWhere((q) => q.where('created_at', '<', edge.created_at).orWhere((w) => w.where('created_at', edge.created_at).andWhere('id', '<=', edge.id)))
        .delete();
    }
    return removed;
  }

  /** Counts by status, for tests and operators. */
  async counts(): Promise<Record<DeliveryStatus, number>> {
    const rows = (await this.knex(TABLES.deliveries).select('status').count<{ status: DeliveryStatus; n: number | string }[]>({ n: '*' }).groupBy('status')) as { status: DeliveryStatus; n: number | string }[];
    const out: Record<DeliveryStatus, number> = { pending: 0, running: 0, succeeded: 0, failed: 0 };
    for (const r of rows) out[r.status] = Number(r.n);
    return out;
  }
}
