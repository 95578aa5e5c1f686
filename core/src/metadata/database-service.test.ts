import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Knex } from 'knex';
import type { PluginMigration } from '@wharf/sdk';
import { createDatabaseService, createKnex, createOwnerMigrator, KnexMetadataStore, MIGRATION_TABLE, ownerMigrationTable } from './index.js';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { openStore, silentLogger } from './test-support.js';
import { MIGRATIONS } from './migrations/index.js';
import { PREPARED_KEPT, preparedCount, withSqliteConnection } from './sqlite-direct.js';

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

  it('executes written-out statements: rows, changes, booleans, the ambient transaction, unique violations', async () => {
    const db = await create();
    const service = kernelDatabase(open(db.config).knex);
    await service.migrate('exec', [
      { name: '001', up: async (k) => void (await k.schema.createTable('plugin_exec', (t) => { t.string('id', 10).primary(); t.boolean('flag').notNullable(); t.bigInteger('at').notNullable(); })) },
    ]);
    const q = name === 'mysql' ? (n: string) => `\`${n}\`` : (n: string) => `"${n}"`;
    const insert = `insert into ${q('plugin_exec')} (${q('id')}, ${q('flag')}, ${q('at')}) values (?, ?, ?), (?, ?, ?)`;
    const inserted = await service.execute(insert, ['a', true, 5, 'b', false, 7]);
    assert.deepEqual(inserted, { rows: [], changes: 2 });
    const select = `select ${q('id')}, ${q('flag')}, ${q('at')} from ${q('plugin_exec')} where ${q('at')} >= ? order by ${q('id')}`;
    const { rows, changes } = await service.execute<{ id: string; flag: unknown; at: unknown }>(select, [0]);
    assert.equal(changes, 0);
    assert.deepEqual(rows.map((r) => [r.id, Boolean(Number(r.flag)), Number(r.at)]), [['a', true, 5], ['b', false, 7]]);
    // The same statement again (prepared once on SQLite) sees new bindings.
    assert.deepEqual((await service.execute<{ id: string }>(select, [6])).rows.map((r) => r.id), ['b']);
    const update = `update ${q('plugin_exec')} set ${q('at')} = ? where ${q('id')} = ?`;
    assert.equal((await service.execute(update, [9, 'nobody'])).changes, 0);
    // Inside transaction(fn) it takes part in the transaction: a rollback undoes it.
    await assert.rejects(
      service.transaction(async () => {
        assert.equal((await service.execute(update, [42, 'a'])).changes, 1);
        assert.equal(Number((await service.execute<{ at: unknown }>(select, [42])).rows[0]?.at), 42, 'read back inside');
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.deepEqual((await service.execute<{ id: string }>(select, [42])).rows, [], 'rolled back');
    const err = await service.execute(insert, ['a', true, 1, 'c', true, 1]).then(() => undefined, (e: unknown) => e);
    assert.equal(service.isUniqueViolation(err), true);
    assert.equal((await service.execute(select, [0])).rows.length, 2, 'nothing of the failed statement was written');
  });

  it('keeps a bounded number of prepared statements (SQL with values written in does not grow memory)', async () => {
    if (name !== 'sqlite') return;
    const store = open((await create()).config);
    const service = kernelDatabase(store.knex);
    for (let i = 0; i < PREPARED_KEPT + 50; i++) assert.equal(Number((await service.execute<{ v: unknown }>(`select ${i} as v`)).rows[0]?.v), i);
    const count = await withSqliteConnection(store.knex, (db) => preparedCount(db));
    assert.equal(count, PREPARED_KEPT);
  });

  it('executes a batch of statements in one transaction: all or none', async () => {
    const db = await create();
    const service = kernelDatabase(open(db.config).knex);
    await service.migrate('batch', [{ name: '001', up: async (k) => void (await k.schema.createTable('plugin_batch', (t) => { t.string('id', 10).primary(); t.integer('n').notNullable(); })) }]);
    const q = name === 'mysql' ? (n: string) => `\`${n}\`` : (n: string) => `"${n}"`;
    const insert = `insert into ${q('plugin_batch')} (${q('id')}, ${q('n')}) values (?, ?)`;
    const count = `select count(*) as ${q('c')} from ${q('plugin_batch')}`;
    const results = await service.executeMany([
      { sql: insert, bindings: ['a', 1] },
      { sql: insert, bindings: ['b', 2] },
      { sql: `update ${q('plugin_batch')} set ${q('n')} = ${q('n')} + 10`, bindings: [] },
      { sql: count },
    ]);
    assert.deepEqual(results.slice(0, 3).map((r) => r.changes), [1, 1, 2]);
    assert.equal(Number(results[3]?.rows[0]?.c), 2, 'a later statement sees the earlier ones');
    // A failing statement undoes the whole batch.
    const err = await service.executeMany([{ sql: insert, bindings: ['c', 3] }, { sql: insert, bindings: ['a', 4] }]).then(() => undefined, (e: unknown) => e);
    assert.equal(service.isUniqueViolation(err), true);
    assert.equal(Number((await service.execute<{ c: unknown }>(count)).rows[0]?.c), 2, 'c was rolled back with the failed a');
    // Inside transaction(fn) the batch joins it.
    await assert.rejects(service.transaction(async () => {
      await service.executeMany([{ sql: insert, bindings: ['d', 5] }]);
      throw new Error('roll back');
    }), /roll back/);
    assert.equal(Number((await service.execute<{ c: unknown }>(count)).rows[0]?.c), 2);
    assert.deepEqual(await service.executeMany([]), []);
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

  it('puts no bound value into the message of a failed query (knex writes them in by default)', async () => {
    const db = await create();
    const service = kernelDatabase(open(db.config).knex);
    await service.migrate('no-values', notesMigrations());
    const secret = 'S3cret-bound-value-7f1e';
    const builder = await service.knex('plugin_notes').insert({ text: secret, missing_column: secret }).then(() => undefined, (e: unknown) => e);
    const raw = await service.knex.raw('insert into plugin_notes (text, missing_column) values (?, ?)', [secret, secret]).then(() => undefined, (e: unknown) => e);
    const executed = await service.execute('insert into plugin_notes (text, missing_column) values (?, ?)', [secret, secret]).then(() => undefined, (e: unknown) => e);
    for (const err of [builder, raw, executed]) {
      assert.ok(err instanceof Error, 'the insert failed');
      assert.match(err.message, /missing_column/, 'the message still says what failed');
      assert.ok(!err.message.includes(secret), err.message);
    }
  });

  it('classifies a deadlock as a transient conflict (PostgreSQL and MySQL: two transactions locking two rows in opposite orders)', async () => {
    const db = await create();
    const service = kernelDatabase(open(db.config).knex);
    await service.migrate('deadlock', notesMigrations());
    assert.equal(service.isTransientConflict(new Error('other')), false);
    if (name === 'sqlite') return; // One connection: SQLite cannot deadlock two transactions of one process.
    const knex = service.knex;
    const [first, second] = (await knex('plugin_notes').insert([{ text: 'row-a' }, { text: 'row-b' }]).then(() => knex('plugin_notes').whereIn('text', ['row-a', 'row-b']).orderBy('text').select('id'))) as Array<{ id: number }>;
    const one = await knex.transaction();
    const two = await knex.transaction();
    try {
      await one('plugin_notes').where({ id: first!.id }).update({ text: 'row-a1' });
      await two('plugin_notes').where({ id: second!.id }).update({ text: 'row-b1' });
      const outcomes = await Promise.allSettled([
        one('plugin_notes').where({ id: second!.id }).update({ text: 'row-b2' }),
        two('plugin_notes').where({ id: first!.id }).update({ text: 'row-a2' }),
      ]);
      const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      assert.equal(failed.length, 1, 'the database ended one side');
      assert.equal(service.isTransientConflict(failed[0]!.reason), true, String(failed[0]!.reason));
      assert.equal(service.isUniqueViolation(failed[0]!.reason), false);
    } finally {
      await one.rollback().catch(() => undefined);
      await two.rollback().catch(() => undefined);
    }
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
