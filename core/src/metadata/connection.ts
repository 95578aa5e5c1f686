import fs from 'node:fs';
import path from 'node:path';
import knexFactory from 'knex';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { DatabaseConfig } from './types.js';

/** The three databases Wharf supports; the `client` key of {@link DatabaseConfig}. */
export type Dialect = DatabaseConfig['client'];

const DEFAULT_POOL = { min: 0, max: 10 } as const;
/**
 * What every knex instance shares. `compileSqlOnError: false`: a failed query's message carries
 * its SQL with placeholders, not with the bound values written in (knex's default), which would
 * put whatever a statement binds (hashes, sealed secrets, payloads) into every logged error.
 */
const COMMON = { compileSqlOnError: false } as const;

/** The handle a better-sqlite3 pool hands to `afterCreate`. */
interface SqliteHandle {
  pragma(source: string): unknown;
}

/**
 * Creates a knex instance for a database config. SQLite gets its directory created and the
 * pragmas that make it a decent shared store (WAL, busy timeout, enforced foreign keys); MySQL
 * talks utf8mb4 so names with any Unicode character survive.
 */
export function createKnex(config: DatabaseConfig, logger?: Logger): Knex {
  const log = logger ? knexLog(logger) : undefined;
  switch (config.client) {
    case 'sqlite':
      return knexFactory({
        client: 'better-sqlite3',
        ...COMMON,
        connection: { filename: prepareSqliteFile(config.filename) },
        useNullAsDefault: true,
        // better-sqlite3 is synchronous and SQLite allows one writer: one connection per process.
        pool: { min: 1, max: 1, afterCreate: sqliteAfterCreate },
        ...(log ? { log } : {}),
      });
    case 'postgres':
      return knexFactory({
        client: 'pg',
        ...COMMON,
        connection: config.connection as Knex.StaticConnectionConfig | string,
        pool: { ...DEFAULT_POOL, ...config.pool },
        ...(log ? { log } : {}),
      });
    case 'mysql':
      return knexFactory({
        client: 'mysql2',
        ...COMMON,
        connection: mysqlConnection(config.connection) as Knex.StaticConnectionConfig,
        pool: { ...DEFAULT_POOL, ...config.pool },
        ...(log ? { log } : {}),
      });
  }
}

/** The dialect a knex instance (or transaction) speaks. */
export function dialectOf(knex: Knex): Dialect {
  const client: unknown = knex.client.config.client;
  if (client === 'better-sqlite3' || client === 'sqlite3') return 'sqlite';
  if (client === 'pg' || client === 'postgres' || client === 'postgresql') return 'postgres';
  if (client === 'mysql2' || client === 'mysql') return 'mysql';
  throw new Error(`unsupported knex client: ${String(client)}`);
}

function prepareSqliteFile(filename: string): string {
  if (filename === ':memory:' || filename.startsWith('file:')) return filename;
  const resolved = path.resolve(filename);
  fs.mkdirSync(path.dirname(resolved), { recursive: true });
  // The database holds password hashes: a new file is the owner's only. SQLite gives its WAL
  // and shared-memory files the same mode. An existing file keeps the mode its operator chose.
  fs.closeSync(fs.openSync(resolved, fs.constants.O_CREAT | fs.constants.O_RDWR, 0o600));
  return resolved;
}

function sqliteAfterCreate(conn: SqliteHandle, done: (err: Error | null, conn: SqliteHandle) => void): void {
  try {
    conn.pragma('journal_mode = WAL');
    conn.pragma('busy_timeout = 5000');
    conn.pragma('foreign_keys = ON');
    conn.pragma('synchronous = NORMAL');
    // 32 MiB of page cache instead of SQLite's 2 MiB: the one connection serves every table, and
    // a table that grows fast (webhook deliveries, events) must not evict the registry's indexes.
    conn.pragma('cache_size = -32768');
    done(null, conn);
  } catch (err) {
    done(err as Error, conn);
  }
}

function mysqlConnection(connection: string | Record<string, unknown>): Record<string, unknown> {
  // utf8mb4 on the wire; tables are created with utf8mb4_bin so names compare byte-wise.
  const base = { charset: 'utf8mb4', supportBigNumbers: true };
  return typeof connection === 'string' ? { ...base, uri: connection } : { ...base, ...connection };
}

const MIGRATION_LOCK_NOISE = /^(Can't take lock to run migrations|If you are sure migrations are not running)/;

function knexLog(logger: Logger): Knex.Logger {
  const text = (message: unknown): string => (typeof message === 'string' ? message : JSON.stringify(message));
  return {
    // The migrator warns whenever another node holds the migration lock; we wait for it.
    warn: (m) =>
      MIGRATION_LOCK_NOISE.test(text(m))
        ? logger.debug({ component: 'knex' }, text(m))
        : logger.warn({ component: 'knex' }, text(m)),
    error: (m) => logger.error({ component: 'knex' }, text(m)),
    debug: (m) => logger.debug({ component: 'knex' }, text(m)),
    deprecate: (method, alternative) => logger.warn({ component: 'knex' }, `${method} is deprecated, use ${alternative}`),
  };
}

interface SharedKnex {
  readonly knex: Knex;
  users: number;
}

const sharedSqlite = new Map<string, SharedKnex>();

/**
 * A knex instance for a metadata store. Stores on the same SQLite file within one process
 * share one connection: better-sqlite3 waits for a busy lock synchronously, so a second
 * connection in the same thread would block the very event loop the lock holder needs.
 */
export function acquireKnex(config: DatabaseConfig, logger: Logger): { knex: Knex; release(): Promise<void> } {
  if (config.client !== 'sqlite' || config.filename === ':memory:') {
    const knex = createKnex(config, logger);
    return { knex, release: () => knex.destroy() };
  }
  const key = path.resolve(config.filename);
  let shared = sharedSqlite.get(key);
  if (!shared) {
    shared = { knex: createKnex(config, logger), users: 0 };
    sharedSqlite.set(key, shared);
  }
  shared.users += 1;
  const entry = shared;
  let released = false;
  return {
    knex: entry.knex,
    async release() {
      if (released) return;
      released = true;
      entry.users -= 1;
      if (entry.users === 0) {
        sharedSqlite.delete(key);
        await entry.knex.destroy();
      }
    },
  };
}
