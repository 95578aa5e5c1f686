import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { MIGRATIONS } from './migrations/index.js';
import { isTableExists, isTransientConflict, withRetry } from './db-errors.js';

/** knex's bookkeeping tables; the lock table is `<name>_lock`. */
export const MIGRATION_TABLE = 'wharf_migrations';

/** A named, ordered list of migrations, as the kernel and plugins hold them. */
export type NamedMigrations = ReadonlyArray<readonly [name: string, migration: Knex.Migration]>;

/** A knex migration source over migrations listed in code (no globbing of `dist/`). */
export function listedMigrationSource(migrations: NamedMigrations): Knex.MigrationSource<string> {
  return {
    getMigrations: async () => migrations.map(([name]) => name),
    getMigrationName: (name) => name,
    getMigration: async (name) => {
      const found = migrations.find(([n]) => n === name);
      if (!found) throw new Error(`unknown migration ${name}`);
      return found[1];
    },
  };
}

export interface MigrateOptions {
  /** How long to wait for another node's migration before giving up. */
  readonly lockTimeoutMs?: number;
}

/** The kernel's own migrations, in `wharf_migrations`. */
export function runMigrations(knex: Knex, logger: Logger, options: MigrateOptions = {}): Promise<void> {
  return runListedMigrations(knex, logger, { ...options, tableName: MIGRATION_TABLE, migrations: MIGRATIONS });
}

export interface ListedMigrateOptions extends MigrateOptions {
  /** knex's bookkeeping table for this set of migrations; the lock table is `<tableName>_lock`. */
  readonly tableName: string;
  readonly migrations: NamedMigrations;
}

/**
 * Runs pending migrations with knex's migrator and its lock table. Several nodes may boot at
 * once: the loser of the lock waits (PostgreSQL blocks on the lock row; MySQL and SQLite report
 * "already locked") and tries again, then finds nothing left to do.
 */
export async function runListedMigrations(knex: Knex, logger: Logger, options: ListedMigrateOptions): Promise<void> {
  const { tableName } = options;
  const lockTable = `${tableName}_lock`;
  await withRetry(() => ensureMigrationTables(knex, tableName), {
    attempts: 5,
    retryIf: (err) => isTableExists(err) || isTransientConflict(err),
  });
  const config = { tableName, migrationSource: listedMigrationSource(options.migrations) };
  // Nodes booting against an up-to-date schema never touch the lock.
  const [, pending] = (await knex.migrate.list(config)) as [unknown[], unknown[]];
  if (pending.length === 0) {
    logger.debug('database schema is up to date');
    return;
  }
  const deadline = Date.now() + (options.lockTimeoutMs ?? 120_000);
  for (let attempt = 0; ; attempt += 1) {
    try {
      const [batch, applied] = (await knex.migrate.latest(config)) as [
        number,
        string[],
      ];
      if (applied.length > 0) logger.info({ batch, migrations: applied, table: tableName }, 'database migrated');
      else logger.debug('database schema is up to date');
      return;
    } catch (err) {
      const waitable = isLockError(err) || isTransientConflict(err);
      if (!waitable) throw err;
      if (Date.now() >= deadline) {
        throw new Error(
          `database migration lock in table ${lockTable} is still held after waiting; ` +
            `if no node is migrating, a crashed node left it: set is_locked = 0 in ${lockTable}`,
          { cause: err },
        );
      }
      logger.debug({ attempt }, 'another node holds the migration lock; waiting');
      const delay = Math.min(2000, 50 * 2 ** Math.min(attempt, 6));
      await sleep(delay / 2 + Math.random() * delay);
    }
  }
}

function isLockError(err: unknown): boolean {
  return err instanceof Error && err.name === 'MigrationLocked';
}

/**
 * Creates knex's tables before the migrator does. knex checks for them and inserts the lock row
 * without any lock of its own, so two nodes booting together can both insert a lock row, and a
 * lock table with two rows is never lockable again. Here the row has a fixed key and the insert
 * ignores a conflict, so racing nodes end with exactly one row.
 */
async function ensureMigrationTables(knex: Knex, tableName: string): Promise<void> {
  const lockTable = `${tableName}_lock`;
  await createTableIfMissing(knex, tableName, (t) => {
    t.increments();
    t.string('name');
    t.integer('batch');
    t.timestamp('migration_time');
  });
  await createTableIfMissing(knex, lockTable, (t) => {
    t.increments('index').primary();
    t.integer('is_locked');
  });
  const rows = await knex(lockTable).select('index').limit(1);
  if (rows.length === 0) {
    await knex(lockTable).insert({ index: 1, is_locked: 0 }).onConflict('index').ignore();
  }
}

async function createTableIfMissing(
  knex: Knex,
  table: string,
  build: (t: Knex.CreateTableBuilder) => void,
): Promise<void> {
  if (await knex.schema.hasTable(table)) return;
  try {
    await knex.schema.createTable(table, build);
  } catch (err) {
    // Another node created it between our check and our create: that is what we wanted.
    if (!(await knex.schema.hasTable(table))) throw err;
  }
}
