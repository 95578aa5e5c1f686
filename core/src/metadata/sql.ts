import type { Knex } from 'knex';
import type { Dialect } from './connection.js';
import { withRetry } from './db-errors.js';
import { bigint, rowsOf } from './decode.js';

/** What every query module needs: the connection, its dialect and the clock. */
export interface StoreContext {
  readonly knex: Knex;
  readonly dialect: Dialect;
  /**
   * Epoch milliseconds. Times are stored as BIGINT epoch ms: identical on all three databases,
   * no time zone conversions (MySQL DATETIME has none), ms precision, and lease expiry is a plain
   * integer comparison. Nodes compare against their own clock, so they need NTP-synced clocks.
   */
  now(): number;
}

/** Longest repository name and tag the schema holds. */
export const MAX_REPOSITORY_NAME = 255;
export const MAX_TAG = 128;
/** Digests are at most 256 characters by the grammar Wharf accepts; the columns hold 255. */
export const MAX_DIGEST = 255;
export const MAX_UPLOAD_ID = 128;

/** Rejects values the columns cannot hold, so MySQL's `INSERT IGNORE` can never truncate one. */
export function checkLength(what: string, value: string, max: number): void {
  if (value.length > max) throw new RangeError(`${what} longer than ${max} characters`);
}

/**
 * Runs `fn` in a transaction, again from the start on deadlocks and unique-key races.
 * READ COMMITTED on MySQL (PostgreSQL's default): every statement sees rows other nodes have
 * committed, so "insert if absent, then read the row" works across nodes, and InnoDB takes
 * fewer gap locks. SQLite transactions are serializable; callers write first so they take the
 * write lock at once instead of failing to upgrade a read lock.
 */
export function inTransaction<T>(ctx: StoreContext, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  const config: Knex.TransactionConfig = ctx.dialect === 'sqlite' ? {} : { isolationLevel: 'read committed' };
  return withRetry(() => ctx.knex.transaction(fn, config));
}

/**
 * Inserts a row unless its unique key exists. Resolves the new row's `id`, or `undefined`
 * when the row was already there (inserted by us earlier or by another node).
 */
export async function insertIfAbsent(
  ctx: StoreContext,
  db: Knex | Knex.Transaction,
  table: string,
  row: Record<string, unknown>,
  conflict: string[],
): Promise<number | undefined> {
  if (ctx.dialect === 'mysql') {
    // INSERT IGNORE: insertId is 0 when the row was ignored.
    const [insertId] = (await db(table).insert(row).onConflict(conflict).ignore()) as unknown[];
    const id = bigint({ insertId }, 'insertId');
    return id === 0 ? undefined : id;
  }
  const [first] = rowsOf(await db(table).insert(row).onConflict(conflict).ignore().returning('id'));
  return first ? bigint(first, 'id') : undefined;
}

/** Inserts rows, skipping those whose key exists, in chunks that stay below parameter limits. */
export async function insertManyIfAbsent(
  db: Knex | Knex.Transaction,
  table: string,
  rows: readonly Record<string, unknown>[],
  conflict: string[],
): Promise<void> {
  for (const chunk of chunks(rows, 200)) {
    await db(table).insert(chunk).onConflict(conflict).ignore();
  }
}

/**
 * A read that locks what it reads until commit (`FOR SHARE`), so a concurrent delete (e.g. GC
 * unlinking a blob) waits for us. SQLite needs none: the transaction holds the write lock.
 */
export function shared<Q extends Knex.QueryBuilder>(ctx: StoreContext, query: Q): Q {
  return ctx.dialect === 'sqlite' ? query : (query.forShare() as Q);
}

/** Splits `items` into arrays of at most `size` elements. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** BIGINT columns come back as strings from pg; every driver's value becomes a number. */
export function toNumber(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw new TypeError(`expected a number from the database, got ${String(value)}`);
  return n;
}

/** A page limit: at most `n` (a non-negative integer), `0` asks for nothing. */
export function pageSize(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}
