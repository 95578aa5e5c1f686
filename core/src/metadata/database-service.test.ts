import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Knex } from 'knex';
import type { PluginMigration } from '@wharf/sdk';
import { createDatabaseService, createKnex, createOwnerMigrator, KnexMetadataStore, MIGRATION_TABLE, ownerMigrationTable } from './index.js';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { openStore, silentLogger } from './test-support.js';
import { MIGRATIONS } from './migrations/index.js';

/** The kernel's migrations by name (the list grows; the tests must not care). */
const KERNEL_MIGRATIONS = MIGRATIONS.map(([name]) => name);

/** `coreServices.database`: the store's knex, and per-owner migrations that tolerate racing nodes. */

/** The plugins' view and the kernel's migrator over one knex instance, as the kernel builds them. */
function kernelDatabase(knex: Knex) {
  const service = createDatabaseService(knex);
  assert.equal('migrate' in service, false, 'plugins get no migrator: the kernel runs their declared migrations');
  return { ...service, ...createOwnerMigrator(knex, silentLogger) };
}

/** Two migrations that would fail if either ran twice (create table, then insert a unique row). */
function notesMigrations(calls: string[] = []): PluginMigration[] {
  return [
    {
      name: '001_notes',
      async up(knex: Knex) {
        calls.push('001');
        await knex.schema.createTable('plugin_notes', (t) => {
          t.increments('id');
          t.string('text', 100).notNullable().unique();
        });
      },
      async down(knex: Knex) {
        await knex.schema.dropTable('plugin_notes');
      },
    },
    {
      name: '002_seed',
      async up(knex: Knex) {
        calls.push('002');
        await knex('plugin_notes').insert({ text: 'seed' });
      },
    },
  ];
}

async function applied(knex: Knex, owner: string): Promise<string[]> {
  const rows = (await knex(ownerMigrationTable(owner)).select('name').orderBy('id')) as { name: string }[];
  return rows.map((r) => r.name);
}

describe('ownerMigrationTable', () => {
  it('derives one table per owner and refuses bad owners', () => {
    assert.equal(ownerMigrationTable('auth-db'), 'wharf_auth_db_migrations');
    assert.equal(ownerMigrationTable('x'), 'wharf_x_migrations');
    for (const bad of ['', 'Auth', 'auth_db', '-a', 'a--b', 'a'.repeat(41), 'a b']) {
      assert.throws(() => ownerMigrationTable(bad), /owner must be kebab-case/, bad);
    }
    assert.notEqual(ownerMigrationTable('a'.repeat(40)), MIGRATION_TABLE);
  });
});

forEachDatabase((name, create) => {
  const stores: KnexMetadataStore[] = [];
  const open = (config: Parameters<typeof openStore>[0]): KnexMetadataStore => {
    const store = openStore(config) as KnexMetadataStore;
    stores.push(store);
    return store;
  };
  after(async () => {
    for (const s of stores) await s.close();
  });

  it('shares the metadata store knex and knows its dialect', async () => {
    const db = await create();
    const store = open(db.config);
    const service = kernelDatabase(store.knex);
    assert.equal(service.knex, store.knex);
    assert.equal(service.dialect, name);
  });

  it('runs an owner migrations in order, once, in its own tables', async () => {
    const db = await create();
    const store = open(db.config);
    await store.migrate();
    const service = kernelDatabase(store.knex);
    const calls: string[] = [];
    await service.migrate('notes', notesMigrations(calls));
    await service.migrate('notes', notesMigrations(calls));
    assert.deepEqual(calls, ['001', '002']);
    assert.deepEqual(await applied(service.knex, 'notes'), ['001_notes', '002_seed']);
    assert.equal(await service.knex.schema.hasTable('wharf_notes_migrations_lock'), true);
    // The kernel's own bookkeeping is untouched.
    const kernelRows = (await service.knex(MIGRATION_TABLE).select('name')) as { name: string }[];
    assert.deepEqual(kernelRows.map((r) => r.name), KERNEL_MIGRATIONS);
    // Appending a migration later runs only the new one.
    const more = [...notesMigrations(calls), { name: '003_more', up: async (k: Knex) => void (await k('plugin_notes').insert({ text: 'more' })) }];
    await service.migrate('notes', more);
    assert.deepEqual(calls, ['001', '002']);
    assert.deepEqual(await applied(service.knex, 'notes'), ['001_notes', '002_seed', '003_more']);
    assert.equal((await service.knex('plugin_notes').select('text')).length, 2);
  });

  it('lets two nodes migrate one owner at once', async () => {
    const db = await create();
    const a = kernelDatabase(open(db.config).knex);
    const b = kernelDatabase(open(db.config).knex);
    const calls: string[] = [];
    await Promise.all([a.migrate('race', notesMigrations(calls)), b.migrate('race', notesMigrations(calls)), a.migrate('race', notesMigrations(calls))]);
    assert.deepEqual(calls, ['001', '002']);
    assert.deepEqual(await applied(a.knex, 'race'), ['001_notes', '002_seed']);
    const lock = (await a.knex('wharf_race_migrations_lock').select('is_locked')) as { is_locked: unknown }[];
    assert.deepEqual(lock.map((r) => Number(r.is_locked)), [0]);
  });

  it('reports a failing migration, records none of it and releases the lock', async () => {
    const db = await create();
    const service = kernelDatabase(open(db.config).knex);
    const broken: PluginMigration[] = [
      { name: '001_ok', up: async (k) => void (await k.schema.createTable('plugin_ok', (t) => t.increments('id'))) },
      { name: '002_broken', up: async (k) => void (await k.raw('select * from no_such_table_here')) },
    ];
    await assert.rejects(service.migrate('broken', broken), /no_such_table_here/);
    // One batch is one transaction, except that MySQL commits at each DDL statement.
    assert.ok(!(await applied(service.knex, 'broken')).includes('002_broken'));
    const lock = (await service.knex('wharf_broken_migrations_lock').select('is_locked')) as { is_locked: unknown }[];
    assert.deepEqual(lock.map((r) => Number(r.is_locked)), [0], 'the lock is released');
  });

  it('classifies unique violations', async () => {
    const db = await create();
    const service = kernelDatabase(open(db.config).knex);
    await service.migrate('uniq', notesMigrations());
    const err = await service.knex('plugin_notes').insert({ text: 'seed' }).then(() => undefined, (e: unknown) => e);
    assert.ok(err, 'the duplicate insert failed');
    assert.equal(service.isUniqueViolation(err), true);
    assert.equal(service.isUniqueViolation(new Error('other')), false);
  });

  it('refuses malformed migration lists before touching the database', async () => {
    const db = await create();
    const knex = createKnex(db.config);
    try {
      const service = kernelDatabase(knex);
      await assert.rejects(service.migrate('Bad_Owner', []), /owner must be kebab-case/);
      const dup = [...notesMigrations(), ...notesMigrations()];
      await assert.rejects(service.migrate('dup', dup), /"001_notes" is listed twice/);
      await assert.rejects(service.migrate('noup', [{ name: 'x' } as unknown as PluginMigration]), /needs a name and an up\(\) function/);
      assert.equal(await knex.schema.hasTable('wharf_dup_migrations'), false);
    } finally {
      await knex.destroy();
    }
  });
});
