import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe } from 'node:test';
import knexFactory from 'knex';
import type { Knex } from 'knex';

/**
 * Real databases for tests: a temp SQLite file, and throwaway databases on the PostgreSQL and
 * MySQL/MariaDB servers of the test machine. Each test file gets its own database, so helpers
 * running in parallel never see each other's rows.
 *
 * `WHARF_TEST_DATABASES` (comma list, default `sqlite,postgres,mysql`) picks the databases.
 * `WHARF_TEST_POSTGRES_URL` / `WHARF_TEST_MYSQL_URL` point at other servers (an admin login and
 * an existing database to connect to while creating the test one). A listed server that does
 * not answer fails the test; it is never skipped.
 */

/**
 * A database the kernel supports, by the name `WHARF_TEST_DATABASES` uses.
 * @since 0.1.0
 */
export type TestDatabaseName = 'sqlite' | 'postgres' | 'mysql';

/**
 * The `database` section of a Wharf config that points at a test database.
 * @since 0.1.0
 */
export type TestDatabaseConfig = { client: 'sqlite'; filename: string } | { client: 'postgres' | 'mysql'; connection: string };

/**
 * Every database a test can run on, in the default order.
 * @since 0.1.0
 */
export const TEST_DATABASE_NAMES: readonly TestDatabaseName[] = ['sqlite', 'postgres', 'mysql'];

/**
 * A fresh, empty database for one test file (see {@link createTestDatabase}).
 * @since 0.1.0
 */
export interface TestDatabase {
  readonly name: TestDatabaseName;
  /** The `database` section to boot a kernel on it. */
  readonly config: TestDatabaseConfig;
  /** Removes the database (or the temp directory). Safe to call twice. */
  drop(): Promise<void>;
}

const POSTGRES_URL = process.env['WHARF_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL_URL = process.env['WHARF_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test';

/**
 * The databases `WHARF_TEST_DATABASES` selects. Unknown names are an error, not ignored.
 * @since 0.1.0
 */
export function selectedDatabases(): TestDatabaseName[] {
  const raw = process.env['WHARF_TEST_DATABASES'];
  if (raw === undefined || raw.trim() === '') return [...TEST_DATABASE_NAMES];
  const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const name of names) {
    if (!(TEST_DATABASE_NAMES as readonly string[]).includes(name)) {
      throw new Error(`WHARF_TEST_DATABASES: unknown database "${name}" (use ${TEST_DATABASE_NAMES.join(', ')})`);
    }
  }
  return names as TestDatabaseName[];
}

/**
 * Creates a fresh, empty database of the given kind: a temp SQLite file, or a new database on the
 * PostgreSQL or MySQL server. A server that does not answer is an error naming it.
 * @since 0.1.0
 */
export async function createTestDatabase(name: TestDatabaseName): Promise<TestDatabase> {
  switch (name) {
    case 'sqlite':
      return createSqlite();
    case 'postgres':
      return createServerDatabase(name, POSTGRES_URL);
    case 'mysql':
      return createServerDatabase(name, MYSQL_URL);
  }
}

/**
 * Runs `block` once per selected database, inside `describe(name)`. `create()` makes a fresh
 * database; every database it made is dropped after the block's own `after` hooks ran.
 * @since 0.1.0
 */
export function forEachDatabase(block: (name: TestDatabaseName, create: () => Promise<TestDatabase>) => void): void {
  for (const name of selectedDatabases()) {
    describe(name, () => {
      const created: TestDatabase[] = [];
      block(name, async () => {
        const db = await createTestDatabase(name);
        created.push(db);
        return db;
      });
      // Registered after the block's hooks, so stores are closed before their database goes.
      after(async () => {
        for (const db of created) await db.drop();
      });
    });
  }
}

async function createSqlite(): Promise<TestDatabase> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wharf-metadata-'));
  let dropped = false;
  return {
    name: 'sqlite',
    config: { client: 'sqlite', filename: path.join(dir, 'wharf.db') },
    async drop() {
      if (dropped) return;
      dropped = true;
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

async function createServerDatabase(name: 'postgres' | 'mysql', adminUrl: string): Promise<TestDatabase> {
  const database = `wharf_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const client = name === 'postgres' ? 'pg' : 'mysql2';
  // Case-insensitive, linguistic database defaults (as production servers often have), so
  // tests prove that the schema itself makes names byte-wise and case-sensitive.
  await withAdmin(client, adminUrl, name, async (admin) => {
    if (name === 'mysql') {
      await admin.raw('create database ?? character set utf8mb4 collate utf8mb4_unicode_ci', [database]);
      return;
    }
    try {
      await admin.raw(`create database ?? locale_provider icu icu_locale 'und' template template0`, [database]);
    } catch {
      await admin.raw('create database ??', [database]); // a server built without ICU
    }
  });
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const config: TestDatabaseConfig = { client: name, connection: url.toString() };
  let dropped = false;
  return {
    name,
    config,
    async drop() {
      if (dropped) return;
      dropped = true;
      await withAdmin(client, adminUrl, name, async (admin) => {
        // FORCE: a test that failed half-way may still hold connections.
        if (name === 'postgres') await admin.raw('drop database if exists ?? with (force)', [database]);
        else await admin.raw('drop database if exists ??', [database]);
      });
    },
  };
}

async function withAdmin(
  client: 'pg' | 'mysql2',
  url: string,
  name: TestDatabaseName,
  fn: (admin: Knex) => Promise<void>,
): Promise<void> {
  const connection = client === 'mysql2' ? { uri: url } : url;
  const quiet = (): void => undefined; // failures surface as our own error below
  const admin = knexFactory({
    client,
    connection,
    pool: { min: 0, max: 1 },
    acquireConnectionTimeout: 10_000,
    log: { warn: quiet, error: quiet, debug: quiet },
  });
  try {
    try {
      await admin.raw('select 1');
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(
        `test database server "${name}" is unreachable at ${redact(url)}: ${reason}. ` +
          `Start it, point WHARF_TEST_${name.toUpperCase()}_URL at one, or leave "${name}" out of WHARF_TEST_DATABASES.`,
        { cause: err },
      );
    }
    await fn(admin);
  } finally {
    await admin.destroy();
  }
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
