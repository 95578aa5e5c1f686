import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import type { Knex } from 'knex';
import { createKnex, KnexMetadataStore, MIGRATION_TABLE } from './index.js';
import { forEachDatabase, type TestDatabase } from '@wharf/sdk-testing/databases';
import { digestOf, openStore, silentLogger } from './test-support.js';
import { MIGRATIONS } from './migrations/index.js';

/** The kernel's migrations by name (the list grows; the tests must not care). */
const KERNEL_MIGRATIONS = MIGRATIONS.map(([name]) => name);

const TABLES = [
  'repositories',
  'blobs',
  'repository_blobs',
  'manifests',
  'manifest_blob_refs',
  'manifest_manifest_refs',
  'tags',
  'uploads',
];

async function migrationState(knex: Knex): Promise<{ applied: string[]; lockRows: Array<{ is_locked: unknown }> }> {
  const applied = (await knex(MIGRATION_TABLE).select('name').orderBy('id')) as Array<{ name: string }>;
  const lockRows = (await knex(`${MIGRATION_TABLE}_lock`).select('is_locked')) as Array<{ is_locked: unknown }>;
  return { applied: applied.map((r) => r.name), lockRows };
}

forEachDatabase((_name, create) => {
  const inspectors: Knex[] = [];
  const inspect = (db: TestDatabase): Knex => {
    const knex = createKnex(db.config);
    inspectors.push(knex);
    return knex;
  };
  after(async () => {
    for (const knex of inspectors) await knex.destroy();
  });

  it('migrates a fresh database, and a second migrate changes nothing', async () => {
    const db = await create();
    const store = openStore(db.config);
    try {
      await store.migrate();
      await store.migrate();
      const knex = inspect(db);
      for (const table of TABLES) assert.equal(await knex.schema.hasTable(table), true, `table ${table}`);
      const state = await migrationState(knex);
      assert.deepEqual(state.applied, KERNEL_MIGRATIONS);
      assert.equal(state.lockRows.length, 1);
      assert.equal(Number(state.lockRows[0]?.is_locked), 0);
      await store.ping();
    } finally {
      await store.close();
    }
  });

  it('lets two stores migrate the same fresh database at once', async () => {
    const db = await create();
    const a = openStore(db.config);
    const b = openStore(db.config);
    try {
      await Promise.all([a.migrate(), b.migrate(), a.migrate()]);
      const state = await migrationState(inspect(db));
      assert.deepEqual(state.applied, KERNEL_MIGRATIONS);
      assert.equal(state.lockRows.length, 1, 'exactly one lock row');
      assert.equal(Number(state.lockRows[0]?.is_locked), 0, 'lock released');
      const digest = digestOf('shared');
      await a.linkBlob('team/app', digest, 6);
      assert.deepEqual(await b.getLinkedBlob('team/app', digest), { size: 6 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('waits for a held migration lock, then fails naming the lock table', async () => {
    const db = await create();
    const knex = inspect(db);
    // What a node that crashed in the middle of a migration leaves behind.
    await knex.schema.createTable(MIGRATION_TABLE, (t) => {
      t.increments();
      t.string('name');
      t.integer('batch');
      t.timestamp('migration_time');
    });
    await knex.schema.createTable(`${MIGRATION_TABLE}_lock`, (t) => {
      t.increments('index').primary();
      t.integer('is_locked');
    });
    await knex(`${MIGRATION_TABLE}_lock`).insert({ index: 1, is_locked: 1 });
    const store = new KnexMetadataStore(createKnex(db.config, silentLogger), silentLogger, { lockTimeoutMs: 300 });
    try {
      const started = Date.now();
      await assert.rejects(store.migrate(), /wharf_migrations_lock/);
      assert.ok(Date.now() - started >= 250, 'it waited before giving up');
      await knex(`${MIGRATION_TABLE}_lock`).update({ is_locked: 0 });
      await store.migrate();
      assert.deepEqual((await migrationState(knex)).applied, KERNEL_MIGRATIONS);
    } finally {
      await store.close();
    }
  });
});
