import { stat } from 'node:fs/promises';
import { KernelError } from '@wharf/sdk';
import type { DatabaseSettings } from '../config/types.js';
import { createKnex } from '../metadata/connection.js';
import { MIGRATION_TABLE } from '../metadata/migrator.js';

/**
 * Only `wharf serve` and `wharf migrate` create a registry. The admin commands (`user`,
 * `project`, `robot`, `replication`, ...) run against one that exists: run in the wrong
 * directory, or with the wrong `--config`, they would otherwise create a new database, an
 * administrator and a password file there and report an empty result.
 */

/** The database in words, without its password: `SQLite file /srv/wharf/data/wharf.db`, `PostgreSQL database "wharf" on db:5432`. */
export function describeDatabase(db: DatabaseSettings): string {
  if (db.client === 'sqlite') return db.filename === ':memory:' ? 'in-memory SQLite database' : `SQLite file ${db.filename}`;
  const name = db.client === 'postgres' ? 'PostgreSQL' : 'MySQL';
  const c = db.connection;
  if (typeof c === 'string') {
    try {
      const u = new URL(c);
      return `${name} database "${decodeURIComponent(u.pathname.replace(/^\//, ''))}" on ${u.host}`;
    } catch {
      return `${name} database of database.connection`;
    }
  }
  const host = typeof c.host === 'string' ? c.host : 'localhost';
  const port = typeof c.port === 'number' ? `:${c.port}` : '';
  return `${name} database "${String(c.database ?? '')}" on ${host}${port}`;
}

function refuse(db: DatabaseSettings, why: string): KernelError {
  return new KernelError(
    'REG_ERR_DATABASE',
    `no registry in the ${describeDatabase(db)}: ${why}. This command works on an existing registry: ` +
      'run it with the config of that registry (--config or WHARF_CONFIG) in its directory, or create one with `wharf migrate` or `wharf serve`',
  );
}

/** Throws `REG_ERR_DATABASE` naming the database unless it holds a migrated registry. */
export async function assertRegistryExists(db: DatabaseSettings): Promise<void> {
  if (db.client === 'sqlite') {
    if (db.filename === ':memory:') throw refuse(db, 'it is always empty');
    const found = await stat(db.filename).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!found) throw refuse(db, 'the file does not exist');
  }
  // The file exists (SQLite) or a server answers: is it a migrated registry?
  const knex = createKnex(db.client === 'sqlite' ? { client: 'sqlite', filename: db.filename } : { client: db.client, connection: db.connection as string | Record<string, unknown> });
  let migrated: boolean;
  try {
    migrated = await knex.schema.hasTable(MIGRATION_TABLE);
  } catch (err) {
    throw new KernelError('REG_ERR_DATABASE', `cannot open the registry database (${describeDatabase(db)}): ${(err as Error).message}`, { cause: err });
  } finally {
    await knex.destroy();
  }
  if (!migrated) throw refuse(db, 'it was never migrated');
}
