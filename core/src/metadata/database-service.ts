import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { DatabaseService, PluginMigration } from '@wharf/sdk';
import { dialectOf } from './connection.js';
import { isUniqueViolation } from './db-errors.js';
import { currentTransaction, inAmbientTransaction } from './ambient-transaction.js';
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
  return Object.freeze({
    get knex(): Knex {
      return currentTransaction() ?? knex;
    },
    dialect: dialectOf(knex),
    isUniqueViolation,
    transaction<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
      return inAmbientTransaction(knex, fn);
    },
  });
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
