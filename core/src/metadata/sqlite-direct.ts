import type { Knex } from 'knex';

/**
 * Direct use of knex's better-sqlite3 connection for the few hot batch writes (pull times,
 * pull events, event delivery) where knex's query building and a fresh `prepare` per statement
 * cost more than the SQL itself. The connection is taken from knex's pool (one connection on
 * SQLite), so it never interleaves with a knex transaction; the work runs synchronously as
 * one better-sqlite3 transaction with statements prepared once per connection.
 */

/** The better-sqlite3 calls used here (its types are not a dependency of the kernel). */
export interface SqliteStatement {
  /** True when the statement returns rows (SELECT, RETURNING). */
  readonly reader: boolean;
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  all(...params: unknown[]): unknown[];
}

export interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): ((...args: A) => R) & { immediate: (...args: A) => R };
  readonly inTransaction: boolean;
}

interface PooledClient {
  acquireConnection(): Promise<SqliteConnection>;
  releaseConnection(connection: SqliteConnection): Promise<unknown>;
}

/** Runs `fn` with the SQLite connection, taken from knex's pool and given back afterwards. */
export async function withSqliteConnection<T>(knex: Knex, fn: (db: SqliteConnection) => T): Promise<T> {
  const client = knex.client as unknown as PooledClient;
  const db = await client.acquireConnection();
  try {
    if (db.inTransaction) throw new Error('the SQLite connection is inside a transaction it was not given for');
    return fn(db);
  } finally {
    await client.releaseConnection(db);
  }
}

const statements = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>();
/**
 * Prepared statements kept per connection: plugins' `execute` adds theirs, and one that wrote
 * values into its SQL instead of binding them must cost re-preparing, not memory without end.
 */
export const PREPARED_KEPT = 500;

/** A statement prepared once per connection (the least recently used beyond PREPARED_KEPT are dropped). */
export function prepared(db: SqliteConnection, sql: string): SqliteStatement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let statement = cache.get(sql);
  if (statement) {
    // Most recently used last: a Map iterates in insertion order.
    cache.delete(sql);
    cache.set(sql, statement);
    return statement;
  }
  cache.set(sql, (statement = db.prepare(sql)));
  if (cache.size > PREPARED_KEPT) cache.delete(cache.keys().next().value as string);
  return statement;
}

/** How many statements are kept for `db` (tests). */
export function preparedCount(db: SqliteConnection): number {
  return statements.get(db)?.size ?? 0;
}
