import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { coreServices, createServiceRef, definePlugin, RegistryError, Type, type Digest } from '@wharf/sdk';
import { collect, digestOf, streamOf } from './fixtures/streams.js';
import { mockServices } from './mock-services.js';
import { startTestPlugin } from './test-plugin.js';

/** The mocked kernel services, each doing what the kernel's would, and a plugin run on them. */

async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('mockServices', () => {
  it('logger: keeps every line, parsed, by level', () => {
    const logs = mockServices.logger.factory();
    logs.logger.child({ plugin: 'x' }).warn({ user: 'alice' }, 'careful');
    logs.logger.trace('fine detail');
    assert.equal(logs.at('warn').length, 1);
    assert.deepEqual([logs.at('warn')[0]?.['plugin'], logs.at('warn')[0]?.['user'], logs.at('warn')[0]?.['msg']], ['x', 'alice', 'careful']);
    assert.equal(logs.records().length, 2);
    assert.match(logs.text(), /fine detail/);
  });

  it('settings: a data directory of its own, removed by cleanup', async () => {
    const settings = await mockServices.settings.factory();
    assert.ok((await stat(settings.dataDir)).isDirectory());
    assert.equal(settings.publicUrl, 'http://127.0.0.1:5000');
    await settings.cleanup();
    assert.equal(existsSync(settings.dataDir), false);
  });

  it('database: a real SQLite file with the kernel\'s schema and unique violations', async () => {
    const database = await mockServices.database.factory();
    try {
      assert.equal(database.dialect, 'sqlite');
      assert.ok(existsSync(database.filename));
      assert.ok(await database.knex.schema.hasTable('manifests'), 'the kernel schema is there');
      await database.knex.schema.createTable('things', (t) => t.string('name').primary());
      await database.knex('things').insert({ name: 'one' });
      const err = await database.knex('things').insert({ name: 'one' }).then(() => undefined, (e: unknown) => e);
      assert.ok(database.isUniqueViolation(err), String(err));
      assert.deepEqual(await database.knex('things').select('name'), [{ name: 'one' }]);
    } finally {
      await database.close();
    }
    assert.equal(existsSync(database.filename), false);
  });

  it('storage: blobs round-trip in memory', async () => {
    const storage = mockServices.storage.factory();
    const bytes = Buffer.from('hello blob');
    const id = 'upload-1';
    const state = await storage.append(id, await storage.createUpload(id), streamOf(bytes));
    const digest = digestOf(bytes) as Digest;
    await storage.commit(id, state, digest);
    assert.deepEqual(await collect(await storage.read(digest)), bytes);
  });

  it('repositories: lists the names under a namespace, sorted and paged', async () => {
    const repositories = mockServices.repositories.factory(['team/b', 'team/a/deep', 'other/x', 'team/c', 'teams/not']);
    assert.deepEqual(await repositories.list('team', { page: 1, pageSize: 2 }), { items: ['team/a/deep', 'team/b'], total: 3 });
    assert.deepEqual(await repositories.list('team', { page: 2, pageSize: 2 }), { items: ['team/c'], total: 3 });
  });

  it('jobs: runs handlers in this process, with retries, on the database', async () => {
    const database = await mockServices.database.factory();
    const jobs = mockServices.jobs.factory({ database });
    try {
      const seen: number[] = [];
      jobs.define<{ n: number }>('mock.square', async (job) => {
        if (job.attempt === 1) throw new Error('first attempt fails');
        seen.push(job.payload.n * job.payload.n);
      }, { backoffMs: 10, maxAttempts: 3 });
      await jobs.start();
      const id = await jobs.enqueue('mock.square', { n: 7 });
      const done = await until('the job to succeed', async () => {
        const record = await jobs.get(id);
        return record?.status === 'succeeded' ? record : undefined;
      });
      assert.equal(done.attempts, 2);
      assert.deepEqual(seen, [49]);
    } finally {
      await jobs.stop();
      await database.close();
    }
  });
});

describe('startTestPlugin', () => {
  const greetingRef = createServiceRef<{ greet(name: string): Promise<string> }>({ id: 'greeter.greeting' });
  const plugin = definePlugin({
    id: 'greeter',
    kind: 'auth',
    version: '1.0.0',
    kernel: '^0.1.0',
    configSchema: Type.Object({ word: Type.String({ default: 'hello' }) }, { additionalProperties: false }),
    register(ctx) {
      ctx.provide(greetingRef, {
        deps: { database: coreServices.database },
        factory: ({ database }) => ({
          greet: async (name: string) => {
            await database.knex('greeted').insert({ name });
            return `${ctx.config.word} ${name}`;
          },
        }),
      });
      ctx.hooks.lifecycle.ready.tapPromise(ctx.id, async () => {
        ctx.logger.info('ready');
      });
      ctx.hooks.auth.authenticate.tapPromise(ctx.id, async (credentials) => {
        if (credentials.kind !== 'basic') return undefined;
        if (credentials.password !== 'right') throw new RegistryError('UNAUTHORIZED');
        return { subject: credentials.username, kind: 'user', provider: ctx.id, admin: false, groups: [] };
      });
    },
  });

  it('registers the plugin, builds its services on mocked ones and runs lifecycle.ready', async () => {
    // The table the service writes to: the database service is the same real file for the test.
    const started = await startTestPlugin(plugin, { config: { word: 'hi' } });
    try {
      await started.get(coreServices.database).knex.schema.createTable('greeted', (t) => t.string('name'));
      assert.equal(await started.get(greetingRef).greet('alice'), 'hi alice');
      assert.deepEqual(await started.get(coreServices.database).knex('greeted').select('name'), [{ name: 'alice' }]);
      assert.equal(started.logs.records().find((r) => r['msg'] === 'ready')?.['plugin'], 'greeter');
      const info = { requestId: 'r', ip: '192.0.2.1', method: 'GET', path: '/v2/', userAgent: undefined };
      assert.equal((await started.hooks.auth.authenticate.promise({ kind: 'basic', username: 'bob', password: 'right' }, info))?.subject, 'bob');
      await assert.rejects(started.hooks.auth.authenticate.promise({ kind: 'basic', username: 'bob', password: 'wrong' }, info), RegistryError);
    } finally {
      await started.close();
    }
    assert.equal(existsSync(started.settings.dataDir), false, 'data dir removed at close');
  });

  it('applies the schema defaults, and refuses a config the schema refuses', async () => {
    const started = await startTestPlugin(plugin);
    try {
      await started.get(coreServices.database).knex.schema.createTable('greeted', (t) => t.string('name'));
      assert.equal(await started.get(greetingRef).greet('carol'), 'hello carol');
    } finally {
      await started.close();
    }
    await assert.rejects(startTestPlugin(plugin, { config: { wrod: 'typo' } }), /plugin "greeter": config/);
  });

  it('gives a plugin that depends on coreServices.logSinks the counters the test sets', async () => {
    const dropsRef = createServiceRef<{ dropped(): number }>({ id: 'test.drops' });
    const exporter = definePlugin({
      id: 'drops',
      kind: 'extension',
      version: '1.0.0',
      kernel: '^0.1.0',
      configSchema: Type.Object({}),
      register(ctx) {
        ctx.provide(dropsRef, { deps: { sinks: coreServices.logSinks }, factory: ({ sinks }) => ({ dropped: () => sinks.getDroppedCount() }) });
      },
    });
    const counters = [{ path: 'log.sinks[1]', type: 'syslog', written: 10, dropped: 2, queued: 0 }];
    const started = await startTestPlugin(exporter, { logSinks: counters });
    try {
      assert.equal(started.get(dropsRef).dropped(), 2);
      assert.deepEqual(started.get(coreServices.logSinks).stats(), counters);
    } finally {
      await started.close();
    }
  });
});
