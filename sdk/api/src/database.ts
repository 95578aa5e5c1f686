import type { Knex } from 'knex';

/**
 * The database service: plugins keep their own tables in the deployment's database, next to the
 * kernel's metadata, through the same knex instance (one connection pool per node).
 *
 * A plugin depends on {@link DatabaseService} through `coreServices.database`, and declares the
 * migrations that create its tables with `ctx.migrations(...)` in `register`: the kernel runs
 * them, at boot and in `wharf migrate`, before any plugin's init.
 *
 * @see docs/architecture/03-services.md
 * @since 0.1.0
 */

/**
 * The three databases Wharf runs on. Plugins branch on it only where SQL really differs
 * (collations, upserts, types); knex's query builder covers the rest.
 * @since 0.1.0
 */
export type DatabaseDialect = 'sqlite' | 'postgres' | 'mysql';

/**
 * One schema change of a plugin. Migrations run in array order, each once per database, and are
 * recorded by `name` in the table `wharf_<kind>_<id>_migrations` (dashes become underscores),
 * with its own lock table, so several nodes booting at once migrate once: append new ones,
 * never rename, reorder or edit one that has shipped.
 * `up` receives a transaction where the database supports transactional DDL (not MySQL).
 * @since 0.1.0
 */
export interface PluginMigration {
  /** Unique within the owner, e.g. `001_users`. Stored in the owner's migration table. */
  readonly name: string;
  /** Applies the change. */
  up(knex: Knex): Promise<void>;
  /** Reverts it. Wharf never rolls back on its own; operators' tools may. */
  down?(knex: Knex): Promise<void>;
}

/**
 * Access to the deployment's database, provided by the kernel.
 * @since 0.1.0
 */
export interface DatabaseService {
  /**
   * The shared knex instance. Never call `destroy()` on it: the kernel owns the pool and closes
   * it at shutdown. Keep transactions short; SQLite has a single connection per process.
   */
  readonly knex: Knex;
  /** Which database the knex instance talks to. */
  readonly dialect: DatabaseDialect;
  /**
   * Runs `fn` in one transaction. While it runs, {@link DatabaseService.knex} (for every call
   * made from `fn`) and `coreServices.events.publish` use that transaction, so a plugin's
   * writes and the durable events describing them commit or roll back together. Nested calls
   * join the outer transaction. Keep it to the plugin's own tables: on SQLite the registry has
   * one connection, which the transaction holds until it ends.
   * @since 0.2.0
   */
  transaction<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T>;
  /**
   * True for a unique or primary-key violation on any of the three databases: another writer
   * (maybe another node) inserted the same key first. Lets plugins treat "already exists" as an
   * answer instead of an error without knowing driver error codes.
   */
  isUniqueViolation(err: unknown): boolean;
  /**
   * True for a conflict where running the statement (or the whole transaction) again is the
   * answer: a deadlock, a serialization failure, a lock wait timeout, SQLite's busy database.
   * Two writers touching the same rows in another order can meet one on PostgreSQL and MySQL.
   * @since 0.2.0
   */
  isTransientConflict(err: unknown): boolean;
  /**
   * Runs one statement the plugin wrote out itself (`?` placeholders as in `knex.raw`, identifiers quoted for
   * {@link DatabaseService.dialect}), for hot paths where building the query with knex and
   * preparing it again on every call cost more than the statement: on SQLite it is prepared
   * once per connection and run synchronously on it; on PostgreSQL and MySQL it goes through
   * `knex.raw`. Inside `transaction(fn)` it runs in that transaction. Booleans are bound as 1/0
   * and dates as epoch milliseconds on SQLite, as knex does. Bind values, never write them into
   * `sql`: each distinct text is a statement of its own (SQLite keeps the 500 used last).
   * @returns the rows of a statement that returns rows (SELECT, or RETURNING on SQLite and
   * PostgreSQL), else none; and how many rows it inserted, changed or deleted.
   * @since 0.2.0
   */
  execute<R = Record<string, unknown>>(sql: string, bindings?: readonly unknown[]): Promise<ExecuteResult<R>>;
  /**
   * Runs several such statements in one transaction (joining the surrounding one inside
   * `transaction(fn)`): all or none. On SQLite the batch is one synchronous transaction on the
   * connection, each statement prepared once per connection, so a batch of small writes costs one
   * commit and one turn of the connection. Results are in the order of `statements`.
   * @since 0.2.0
   */
  executeMany(statements: ReadonlyArray<{ readonly sql: string; readonly bindings?: readonly unknown[] }>): Promise<ExecuteResult<Record<string, unknown>>[]>;
}

/**
 * What {@link DatabaseService.execute} returns.
 * @since 0.2.0
 */
export interface ExecuteResult<R> {
  readonly rows: R[];
  /** Rows inserted, updated or deleted by a statement that returns no rows; 0 for one that does. */
  readonly changes: number;
}

export type { Knex };
