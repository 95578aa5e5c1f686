import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { DatabaseService, ExecuteResult, PluginMigration } from '@wharf/sdk';
import { dialectOf } from './connection.js';
import { isTransientConflict, isUniqueViolation } from './db-errors.js';
import { currentTransaction, inAmbientTransaction } from './ambient-transaction.js';
import { prepared, withSqliteConnection, type SqliteConnection } from './sqlite-direct.js';
import { MIGRATION_TABLE, runListedMigrations, type MigrateOptions, type NamedMigrations } from './migrator.js';

/**
 * `coreServices.database`: the metadata store's knex instance handed to plugins, and the
 * kernel's migrator of plugins' tables (plugins declare migrations, the kernel runs them). Each
 * owner gets its own knex bookkeeping and lock tables, so plugins migrate independently of the
 * kernel and of each other, with the same multi-node safety.
 */

/** Runs one owner's migrations (kernel side: plugins declare theirs with `ctx.migrations`). */
export interface OwnerMigrator {
  migrate(owner: string, migrations: readonly PluginMigration[]): Promise<void>;
}

const OWNER = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
// `wharf_` + owner + `_migrations_lock` must fit PostgreSQL's 63 and MySQL's 64 characters.
const MAX_OWNER_LENGTH = 40;

/** The migration table of an owner: `auth-db` -> `wharf_auth_db_migrations`. */
export function ownerMigrationTable(owner: string): string {
  if (typeof owner !== 'string' || !OWNER.test(owner) || owner.length > MAX_OWNER_LENGTH) {
    throw new TypeError(`migrations: owner must be kebab-case and at most ${MAX_OWNER_LENGTH} characters, got "${String(owner)}"`);
  }
  const table = `wharf_${owner.replace(/-/g, '_')}_migrations`;
  if (table === MIGRATION_TABLE) throw new TypeError(`migrations: owner "${owner}" is reserved`);
  return table;
}

function checkMigrations(owner: string, migrations: readonly PluginMigration[]): NamedMigrations {
  if (!Array.isArray(migrations)) throw new TypeError(`migrations of "${owner}": migrations must be an array`);
  const seen = new Set<string>();
  return migrations.map((m, i) => {
    if (!m || typeof m.name !== 'string' || m.name === '' || typeof m.up !== 'function') {
      throw new TypeError(`migrations of "${owner}": migration #${i} needs a name and an up() function`);
    }
    if (seen.has(m.name)) throw new TypeError(`migrations of "${owner}": migration "${m.name}" is listed twice`);
    seen.add(m.name);
    const down = m.down;
    // knex insists on a down(); one that refuses says which migration cannot be reverted.
    const migration: Knex.Migration = {
      up: (knex) => m.up(knex),
      down: down
        ? (knex: Knex) => down.call(m, knex)
        : () => Promise.reject(new Error(`migration ${m.name} of ${owner} cannot be reverted: it has no down()`)),
    };
    return [m.name, migration] as const;
  });
}

/**
 * What plugins get as `coreServices.database`: the shared knex instance (or, inside
 * `transaction(fn)`, that transaction), no migrator.
 */
export function createDatabaseService(knex: Knex): DatabaseService {
  const dialect = dialectOf(knex);
  return Object.freeze({
    get knex(): Knex {
      return currentTransaction() ?? knex;
    },
    dialect,
    isUniqueViolation,
    isTransientConflict,
    transaction<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
      return inAmbientTransaction(knex, fn);
    },
    execute<R>(sql: string, bindings: readonly unknown[] = []): Promise<ExecuteResult<R>> {
      return executeStatement<R>(knex, dialect, sql, bindings);
    },
    async executeMany(statements: ReadonlyArray<{ readonly sql: string; readonly bindings?: readonly unknown[] }>): Promise<ExecuteResult<Record<string, unknown>>[]> {
      if (statements.length === 0) return [];
      if (dialect === 'sqlite' && !currentTransaction()) {
        return withSqliteConnection(knex, (db) => db.transaction(() => statements.map(({ sql, bindings = [] }) => runSqlite<Record<string, unknown>>(db, sql, bindings)))());
      }
      return inAmbientTransaction(knex, async () => {
        const results: ExecuteResult<Record<string, unknown>>[] = [];
        for (const { sql, bindings = [] } of statements) results.push(await executeStatement<Record<string, unknown>>(knex, dialect, sql, bindings));
        return results;
      });
    },
  });
}

function runSqlite<R>(db: SqliteConnection, sql: string, bindings: readonly unknown[]): ExecuteResult<R> {
  const statement = prepared(db, sql);
  const values = bindings.map(sqliteValue);
  if (statement.reader) return { rows: statement.all(...values) as R[], changes: 0 };
  return { rows: [], changes: statement.run(...values).changes };
}

/** better-sqlite3 binds numbers, strings, bigints, buffers and null only. */
function sqliteValue(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.valueOf();
  return value === undefined ? null : value;
}

/** `DatabaseService.execute`: see its documentation in the SDK. */
async function executeStatement<R>(knex: Knex, dialect: ReturnType<typeof dialectOf>, sql: string, bindings: readonly unknown[]): Promise<ExecuteResult<R>> {
  const trx = currentTransaction();
  if (dialect === 'sqlite') {
    const values = bindings.map(sqliteValue);
    if (trx) {
      // The transaction holds the one connection: run through it (knex prepares again; rare).
      const result = (await trx.raw(sql, values as Knex.RawBinding[])) as unknown;
      return Array.isArray(result) ? { rows: result as R[], changes: 0 } : { rows: [], changes: Number((result as { changes?: number }).changes ?? 0) };
    }
    return withSqliteConnection(knex, (db) => runSqlite<R>(db, sql, bindings));
  }
  const result = (await (trx ?? knex).raw(sql, bindings as Knex.RawBinding[])) as unknown;
  if (dialect === 'postgres') {
    const { rows, rowCount, fields } = result as { rows: R[]; rowCount: number | null; fields?: unknown[] };
    return (fields?.length ?? 0) > 0 ? { rows, changes: 0 } : { rows: [], changes: Number(rowCount ?? 0) };
  }
  // mysql2: [rows, fields] for a SELECT, [ResultSetHeader, undefined] for a write.
  const [first] = result as [unknown];
  return Array.isArray(first) ? { rows: first as R[], changes: 0 } : { rows: [], changes: Number((first as { affectedRows?: number }).affectedRows ?? 0) };
}

export function createOwnerMigrator(knex: Knex, logger: Logger, options: MigrateOptions = {}): OwnerMigrator {
  // One migration run per owner at a time in this process; a second call waits for the first.
  const running = new Map<string, Promise<void>>();
  return Object.freeze({
    async migrate(owner: string, migrations: readonly PluginMigration[]): Promise<void> {
      const tableName = ownerMigrationTable(owner);
      const listed = checkMigrations(owner, migrations);
      const prior = running.get(owner) ?? Promise.resolve();
      const run = prior
        .catch(() => undefined)
        .then(() => runListedMigrations(knex, logger.child({ owner }), { ...options, tableName, migrations: listed }));
      running.set(owner, run);
      try {
        await run;
      } finally {
        if (running.get(owner) === run) running.delete(owner);
      }
    },
  });
}
