import { randomBytes } from 'node:crypto';
import type { DatabaseService, WebhookEvent } from '@wharf/sdk';
import { TABLES } from './migrations.js';
import type { StoredTarget } from './policy-store.js';
import { statement, type Quote } from './statements.js';

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
  /** When the event was queued (the history's order); default: when the row is written. */
  readonly createdAt?: number;
}

/** One written-out statement, for `database.executeMany`. */
export interface Statement {
  readonly sql: string;
  readonly bindings: readonly unknown[];
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

/**
 * Random bytes for ids, drawn from the system in blocks: one call per 256 ids instead of one per
 * event (the fan-out makes ids for every push). Each id still gets bytes no other id got.
 */
const RANDOM_BLOCK = 16 * 256;
let randomPool = Buffer.alloc(0);
let randomUsed = 0;

function freshRandom16(): Buffer {
  if (randomUsed + 16 > randomPool.length) {
    randomPool = randomBytes(RANDOM_BLOCK);
    randomUsed = 0;
  }
  // A copy: uuidV7 writes the time into it.
  const bytes = Buffer.from(randomPool.subarray(randomUsed, randomUsed + 16));
  randomUsed += 16;
  return bytes;
}

/** `count` of {@link timeOrderedId} at once. */
export function timeOrderedIds(now: number, count: number): string[] {
  return Array.from({ length: count }, () => uuidV7(now, freshRandom16()));
}

/** Rows per INSERT: 12 bound values each stays far below every database's limit. */
const ROWS_PER_INSERT = 100;
/** The bound columns of the fan-out's INSERT, in the order `enqueue` binds them. */
const INSERT_COLUMNS = ['id', 'policy_id', 'event_id', 'target_index', 'event_type', 'target_type', 'address', 'target', 'event', 'next_attempt_at', 'created_at', 'updated_at'] as const;
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
    const { statements, ids } = this.insertStatements(rows, now);
    const written = new Set<string>();
    // One statement per chunk, each atomic on its own (no transaction to hold SQLite's one
    // connection across awaits); rows of an event seen before are skipped by the unique key.
    for (const [n, statement] of statements.entries()) {
      const { rows: returned } = await this.database.execute<{ id: string }>(statement.sql, statement.bindings);
      if (this.database.dialect === 'mysql') {
        // MySQL has no RETURNING: the ids that made it in say which rows were new.
        const chunkIds = ids.slice(n * ROWS_PER_INSERT, (n + 1) * ROWS_PER_INSERT);
        const stored = (await this.knex(TABLES.deliveries).whereIn('id', chunkIds).select('id')) as { id: string }[];
        for (const r of stored) written.add(r.id);
      } else {
        // SQLite and PostgreSQL return only the rows the statement inserted.
        for (const r of returned) written.add(r.id);
      }
    }
    return ids.filter((id) => written.has(id));
  }

  /**
   * The INSERTs of `rows` (one per ROWS_PER_INSERT rows, each skipping rows whose (event,
   * policy, target) exists), with the ids they give the rows: for the caller's own batch.
   */
  insertStatements(rows: readonly NewDelivery[], now = Date.now()): { statements: Statement[]; ids: string[] } {
    const ids = timeOrderedIds(now, rows.length);
    const statements: Statement[] = [];
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const chunk = rows.slice(i, i + ROWS_PER_INSERT);
      const bindings: (string | number)[] = [];
      chunk.forEach((r, n) => {
        bindings.push(ids[i + n] as string, r.policyId, r.eventId, r.targetIndex, r.event.payload.type, r.target.type, r.target.address.slice(0, 2048));
        bindings.push(JSON.stringify(r.target), JSON.stringify(r.event), now, r.createdAt ?? now, now);
      });
      statements.push({ sql: this.#insertSql(chunk.length), bindings });
    }
    return { statements, ids };
  }

  /** A statement of this store, written out once (see statements.ts). */
  #statement(key: string, write: (q: Quote) => string): string {
    return statement(this.database.dialect, `deliveries:${key}`, write);
  }

  /** The fan-out's INSERT for `count` rows. */
  #insertSql(count: number): string {
    return this.#statement(`insert:${count}`, (q) => {
      const columns = [...INSERT_COLUMNS, 'status', 'attempts', 'lease_until', 'claimed_by'].map(q).join(', ');
      const row = `(${INSERT_COLUMNS.map(() => '?').join(', ')}, 'pending', 0, NULL, NULL)`;
      const values = Array.from({ length: count }, () => row).join(', ');
      return this.database.dialect === 'mysql'
        ? `insert ignore into ${q(TABLES.deliveries)} (${columns}) values ${values}`
        : `insert into ${q(TABLES.deliveries)} (${columns}) values ${values} on conflict (${['event_id', 'policy_id', 'target_index'].map(q).join(', ')}) do nothing returning ${q('id')}`;
    });
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
    type IdRow = Pick<Row, 'id' | 'policy_id'>;
    const skip = skipPolicies.length;
    const pendingSql = this.#statement(`due:${skip}`, (q) => {
      const notIn = skip === 0 ? '' : ` and ${q('policy_id')} not in (${Array.from({ length: skip }, () => '?').join(', ')})`;
      return `select ${q('id')}, ${q('policy_id')} from ${q(TABLES.deliveries)} where ${q('status')} = 'pending' and ${q('next_attempt_at')} <= ?${notIn} order by ${q('next_attempt_at')} asc limit ?`;
    });
    const { rows } = await this.database.execute<IdRow>(pendingSql, [now, ...skipPolicies, limit]);
    const ids = (list: IdRow[]) => list.map((r) => ({ id: r.id, policyId: Number(r.policy_id) }));
    if (options.expired === false) return ids(rows);
    const expiredSql = this.#statement('expired', (q) => `select ${q('id')}, ${q('policy_id')} from ${q(TABLES.deliveries)} where ${q('status')} = 'running' and ${q('lease_until')} < ? limit ?`);
    const { rows: expired } = await this.database.execute<IdRow>(expiredSql, [now, limit]);
    return [...ids(expired), ...ids(rows)];
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
    const marks = ids.map(() => '?').join(', ');
    const claimSql = this.#statement(`claim:${ids.length}`, (q) =>
      `update ${q(TABLES.deliveries)} set ${q('status')} = 'running', ${q('lease_until')} = ?, ${q('claimed_by')} = ?, ${q('attempts')} = ${q('attempts')} + 1, ${q('updated_at')} = ?` +
      ` where ${q('id')} in (${marks}) and ((${q('status')} = 'pending' and ${q('next_attempt_at')} <= ?) or (${q('status')} = 'running' and ${q('lease_until')} < ?))`);
    await this.database.execute(claimSql, [now + leaseMs, holder, now, ...ids, now, now]);
    const takenSql = this.#statement(`claimed:${ids.length}`, (q) => `select * from ${q(TABLES.deliveries)} where ${q('id')} in (${marks}) and ${q('claimed_by')} = ? and ${q('status')} = 'running'`);
    const { rows } = await this.database.execute<Row>(takenSql, [...ids, holder]);
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
    const sql = this.#finishSql();
    await this.database.executeMany(finished.map(({ id, holder, attempt, outcome, retryAt }) => {
      const status: DeliveryStatus = outcome.ok ? 'succeeded' : retryAt === undefined ? 'failed' : 'pending';
      const error = outcome.error === undefined ? null : outcome.error.slice(0, 1000);
      return { sql, bindings: [status, retryAt ?? now, outcome.responseCode ?? null, Math.round(outcome.durationMs), error, now, id, holder, attempt] };
    }));
  }

  #finishSql(): string {
    return this.#statement('finish', (q) => {
      const set = ['status', 'next_attempt_at'].map((c) => `${q(c)} = ?`).join(', ') + `, ${q('lease_until')} = NULL, ` + ['response_code', 'duration_ms', 'last_error', 'updated_at'].map((c) => `${q(c)} = ?`).join(', ');
      return `update ${q(TABLES.deliveries)} set ${set} where ${q('id')} = ? and ${q('claimed_by')} = ? and ${q('attempts')} = ? and ${q('status')} = 'running'`;
    });
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
