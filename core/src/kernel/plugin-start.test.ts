import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  coreServices,
  createServiceRef,
  definePlugin,
  KernelError,
  Type,
  type DatabaseService,
  type Knex,
  type PluginMigration,
  type Principal,
  type WharfPlugin,
} from '@wharf/sdk';
import { loadConfig } from '../config/load-config.js';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { createKernel, type Kernel } from './kernel.js';
import { baseConfig, captureLogs, tempDir } from './test-support.js';

/** The plugin side of boot: declared migrations, typed inits, the boot timeout. */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function makeKernel(extra: Record<string, unknown>, plugins: WharfPlugin[]): Promise<Kernel> {
  const tmp = await tempDir();
  const config = baseConfig(tmp.dir, extra);
  const loaded = await loadConfig({ config, env: {}, plugins });
  const kernel = createKernel(loaded, { logDestination: captureLogs().stream });
  cleanups.push(async () => {
    await kernel.close();
    await tmp.cleanup();
  });
  return kernel;
}

function extension(id: string, register: WharfPlugin['register']): WharfPlugin {
  return definePlugin({ id, kind: 'extension', version: '1.0.0', kernel: '^0.1.0', configSchema: Type.Object({}), register });
}

async function bootError(kernel: Kernel): Promise<KernelError> {
  return kernel.boot().then(
    () => assert.fail('boot should have failed'),
    (err: unknown) => {
      assert.ok(err instanceof KernelError, `expected a KernelError, got ${String(err)}`);
      return err;
    },
  );
}

interface Notes {
  add(text: string): Promise<void>;
  all(): Promise<string[]>;
}
const notesRef = createServiceRef<Notes>({ id: 'notes.store' });

const notesMigrations = (dialects: string[]): ((dialect: string) => PluginMigration[]) => (dialect) => {
  dialects.push(dialect);
  return [
    { name: '001_notes', up: async (k: Knex) => void (await k.schema.createTable('plugin_notes', (t) => (t.increments('id'), t.string('text', 100)))) },
    { name: '002_seed', up: async (k: Knex) => void (await k('plugin_notes').insert({ text: 'seeded by a migration' })) },
  ];
};

/** A plugin with a table, a service over it and an init that reads it: the whole contract. */
function notesPlugin(events: string[], dialects: string[] = []): WharfPlugin {
  return extension('notes', (ctx) => {
    ctx.migrations(notesMigrations(dialects));
    ctx.provide(notesRef, {
      deps: { database: coreServices.database },
      factory: ({ database }: { database: DatabaseService }) => {
        events.push('factory');
        return {
          add: async (text) => void (await database.knex('plugin_notes').insert({ text })),
          all: async () => ((await database.knex('plugin_notes').select('text').orderBy('id')) as { text: string }[]).map((r) => r.text),
        };
      },
    });
    ctx.registerInit({
      deps: { notes: notesRef, settings: coreServices.settings },
      async init({ notes, settings }) {
        // Typed deps: `notes` is Notes, `settings` KernelSettings; the table exists already.
        events.push(`init:${(await notes.all()).join('|')}:${typeof settings.dataDir}`);
        await notes.add('added by init');
      },
    });
    ctx.hooks.lifecycle.ready.tapPromise('notes', async () => void events.push('ready'));
  });
}

describe('plugin init', () => {
  it('runs after the services and migrations, before lifecycle.ready, with typed resolved deps', async () => {
    const events: string[] = [];
    const kernel = await makeKernel({ extensions: { notes: {} } }, [notesPlugin(events)]);
    await kernel.boot();
    assert.deepEqual(events, ['factory', 'init:seeded by a migration:string', 'ready']);
    assert.deepEqual(await kernel.resolve(notesRef).all(), ['seeded by a migration', 'added by init']);
  });

  it('calls inits in plugin order, and taps made in an init keep config order on the hook', async () => {
    const order: string[] = [];
    const authProvider = (id: string, inInit: boolean) =>
      definePlugin({
        id,
        kind: 'auth',
        version: '1.0.0',
        kernel: '^0.1.0',
        configSchema: Type.Object({}),
        register(ctx) {
          const tap = () =>
            ctx.hooks.auth.authenticate.tapPromise(ctx.id, async () => {
              order.push(`auth:${id}`);
              return undefined;
            });
          if (!inInit) return tap();
          ctx.registerInit({ deps: {}, init: () => (order.push(`init:${id}`), tap()) });
        },
      });
    // "first" taps late (in its init), "second" early (in register): "first" still asks first.
    const kernel = await makeKernel({ auth: [{ first: {} }, { second: {} }, { third: {} }] }, [
      authProvider('first', true),
      authProvider('second', false),
      authProvider('third', true),
    ]);
    await kernel.boot();
    assert.deepEqual(order, ['init:first', 'init:third']);
    order.length = 0;
    const principal: Principal | undefined = await kernel.hooks.auth.authenticate.promise({ kind: 'anonymous' }, { ip: '127.0.0.1', requestId: 'r' } as never);
    assert.equal(principal, undefined);
    assert.deepEqual(order, ['auth:first', 'auth:second', 'auth:third']);
  });

  it('fails boot naming the plugin when an init dependency is provided by no one', async () => {
    const missing = createServiceRef<unknown>({ id: 'nobody.provides' });
    const kernel = await makeKernel({ extensions: { needy: {} } }, [
      extension('needy', (ctx) => ctx.registerInit({ deps: { gone: missing }, init: () => assert.fail('never called') })),
    ]);
    const err = await bootError(kernel);
    assert.equal(err.code, 'REG_ERR_SERVICE_MISSING');
    assert.equal(err.plugin, 'needy');
    assert.match(err.message, /init needs nobody\.provides \(as "gone"\)/);
  });

  it('fails boot naming the plugin when a durable consumer needs a service nobody provides', async () => {
    const missing = createServiceRef<unknown>({ id: 'nobody.feeds' });
    const kernel = await makeKernel({ extensions: { hungry: {} } }, [
      extension('hungry', (ctx) => ctx.events.subscribe({ name: 'hungry-consumer', types: ['registry.*'], deps: { gone: missing }, handle: async () => assert.fail('never called') })),
    ]);
    const err = await bootError(kernel);
    assert.equal(err.code, 'REG_ERR_SERVICE_MISSING');
    assert.equal(err.plugin, 'hungry');
    assert.match(err.message, /a durable consumer needs nobody\.feeds \(as "gone"\)/);
  });

  it('optional init dependencies: the service when some plugin provides it, else undefined', async () => {
    const absent = createServiceRef<string>({ id: 'nobody.optional' });
    const present = createServiceRef<string>({ id: 'giver.word' });
    const seen: unknown[] = [];
    const kernel = await makeKernel({ extensions: { giver: {}, taker: {} } }, [
      extension('giver', (ctx) => ctx.provide(present, { factory: () => 'hello' })),
      extension('taker', (ctx) => ctx.registerInit({
        deps: { settings: coreServices.settings },
        optionalDeps: { word: present, missing: absent },
        init: ({ settings, word, missing }) => void seen.push(typeof settings.dataDir, word, missing),
      })),
    ]);
    await kernel.boot();
    await kernel.close();
    assert.deepEqual(seen, ['string', 'hello', undefined]);
  });

  it('fails boot with REG_ERR_PLUGIN_INIT naming the plugin when its init throws', async () => {
    const kernel = await makeKernel({ extensions: { broken: {} } }, [
      extension('broken', (ctx) =>
        ctx.registerInit({
          deps: {},
          init: async () => {
            throw new Error('ldap said no');
          },
        }),
      ),
    ]);
    const err = await bootError(kernel);
    assert.equal(err.code, 'REG_ERR_PLUGIN_INIT');
    assert.equal(err.plugin, 'broken');
    assert.match(err.message, /plugin "broken": init failed: ldap said no/);
    assert.equal(kernel.state, 'failed');
  });

  it('refuses a second registerInit, and declarations after register', async () => {
    let late: (() => void) | undefined;
    const twice = await makeKernel({ extensions: { twice: {} } }, [
      extension('twice', (ctx) => {
        ctx.registerInit({ deps: {}, init: () => undefined });
        late = () => ctx.migrations([]);
        ctx.registerInit({ deps: {}, init: () => undefined });
      }),
    ]);
    const err = await bootError(twice);
    assert.equal(err.code, 'REG_ERR_PLUGIN_REGISTER');
    assert.match(err.message, /called registerInit\(\) twice/);
    assert.throws(() => late?.(), (e: unknown) => e instanceof KernelError && e.code === 'REG_ERR_PLUGIN_SEALED' && e.plugin === 'twice');
  });
});

describe('extension routes (ctx.routes)', () => {
  it('refuses two plugins claiming the same /_ext/<id> prefix, naming it', async () => {
    const routes = (kind: 'auth' | 'extension') =>
      definePlugin({ id: 'twin', kind, version: '1.0.0', kernel: '^0.1.0', configSchema: Type.Object({}), register: (ctx) => ctx.routes(() => undefined) });
    const kernel = await makeKernel({ auth: [{ twin: {} }], extensions: { twin: {} } }, [routes('auth'), routes('extension')]);
    const err = await bootError(kernel);
    assert.equal(err.code, 'REG_ERR_PLUGIN_DUPLICATE');
    assert.match(err.message, /\/_ext\/twin/);
  });

  it('are listed in plugin order for the HTTP app, and only once declared', async () => {
    const kernel = await makeKernel({ extensions: { one: {}, two: {} } }, [
      extension('one', (ctx) => ctx.routes((r) => r.get('/x', () => undefined))),
      extension('two', (ctx) => assert.throws(() => (ctx.routes(() => undefined), ctx.routes(() => undefined)), /called routes\(\) twice/)),
    ]);
    await kernel.boot();
    assert.deepEqual(kernel.extensionRoutes.map((r) => r.plugin), ['one', 'two']);
  });
});

describe('boot timeout (server.bootTimeoutMs)', () => {
  // Long enough for the real fs health check on a busy machine, short for a test.
  const SHORT = 1500;

  it('fails boot when a lifecycle.ready tap never settles, naming the plugin and the step', async () => {
    const kernel = await makeKernel({ server: { bootTimeoutMs: SHORT }, extensions: { hung: {}, fine: {} } }, [
      extension('hung', (ctx) => ctx.hooks.lifecycle.ready.tapPromise('hung', () => new Promise(() => undefined))),
      extension('fine', (ctx) => ctx.hooks.lifecycle.ready.tapPromise('fine', async () => undefined)),
    ]);
    const t0 = Date.now();
    const err = await bootError(kernel);
    assert.equal(err.code, 'REG_ERR_PLUGIN_TIMEOUT');
    assert.equal(err.plugin, 'hung');
    assert.equal(err.message, `plugin "hung": lifecycle.ready tap did not finish within ${SHORT} ms (server.bootTimeoutMs)`);
    assert.ok(Date.now() - t0 < 15000, 'failed after the timeout, not later');
    assert.equal(kernel.state, 'failed');
  });

  it('fails boot when an init never settles', async () => {
    const kernel = await makeKernel({ server: { bootTimeoutMs: SHORT }, extensions: { stuck: {} } }, [
      extension('stuck', (ctx) => ctx.registerInit({ deps: {}, init: () => new Promise<void>(() => undefined) })),
    ]);
    const err = await bootError(kernel);
    assert.equal(err.code, 'REG_ERR_PLUGIN_TIMEOUT');
    assert.equal(err.plugin, 'stuck');
    assert.match(err.message, new RegExp(`plugin "stuck": init did not finish within ${SHORT} ms`));
  });

  it('fails boot when the storage health check never settles, naming the storage plugin', async () => {
    const hungStorage = definePlugin({
      id: 'hung',
      kind: 'storage',
      version: '1.0.0',
      kernel: '^0.1.0',
      configSchema: Type.Object({}),
      register(ctx) {
        ctx.provide(coreServices.storage, { factory: () => ({ name: 'hung', healthCheck: () => new Promise<void>(() => undefined) }) as never });
      },
    });
    const kernel = await makeKernel({ server: { bootTimeoutMs: 50 }, storage: { hung: {} } }, [hungStorage]);
    const err = await bootError(kernel);
    assert.equal(err.code, 'REG_ERR_PLUGIN_TIMEOUT');
    assert.equal(err.plugin, 'hung');
    assert.match(err.message, /storage health check did not finish within 50 ms/);
  });

  it('is validated as a positive integer with a 60 s default', async () => {
    const kernel = await makeKernel({}, []);
    assert.equal(kernel.config.server.bootTimeoutMs, 60000);
    const tmp = await tempDir();
    cleanups.push(tmp.cleanup);
    await assert.rejects(loadConfig({ config: baseConfig(tmp.dir, { server: { bootTimeoutMs: 0 } }), env: {} }), /server\.bootTimeoutMs/);
  });
});

describe('declared migrations', () => {
  forEachDatabase((name, create) => {
    it('run at boot in plugin order, once, in wharf_<kind>_<id>_migrations, with the dialect', async () => {
      const db = await create();
      const dialects: string[] = [];
      const events: string[] = [];
      const first = await makeKernel({ database: db.config, extensions: { notes: {} } }, [notesPlugin(events, dialects)]);
      await first.boot();
      await first.close();
      // A second boot finds nothing to do: the seed row is not inserted twice.
      const second = await makeKernel({ database: db.config, extensions: { notes: {} } }, [notesPlugin([], dialects)]);
      await second.boot();
      assert.deepEqual(dialects, [name, name]);
      assert.deepEqual(await second.resolve(notesRef).all(), ['seeded by a migration', 'added by init', 'added by init']);
      const knex = second.resolve(coreServices.database).knex;
      const applied = ((await knex('wharf_extension_notes_migrations').select('name').orderBy('id')) as { name: string }[]).map((r) => r.name);
      assert.deepEqual(applied, ['001_notes', '002_seed']);
    });

    it('run in `wharf migrate` (kernel.migrate) without building services or calling inits', async () => {
      const db = await create();
      const events: string[] = [];
      const kernel = await makeKernel({ database: db.config, extensions: { notes: {} } }, [notesPlugin(events)]);
      await kernel.migrate();
      assert.equal(kernel.state, 'closed');
      assert.deepEqual(events, [], 'no factory, init or ready ran');
      // A kernel booted with migrate off finds the plugin's table there.
      const booted = await makeKernel({ database: { ...db.config, migrate: false }, extensions: { notes: {} } }, [notesPlugin([])]);
      await booted.boot();
      assert.deepEqual(await booted.resolve(notesRef).all(), ['seeded by a migration', 'added by init']);
    });

    it('are refused at register when the owner <kind>-<id> is too long for its tables', async () => {
      const db = await create();
      const id = 'a-plugin-id-much-too-long-for-tables';
      const kernel = await makeKernel({ database: db.config, extensions: { [id]: {} } }, [extension(id, (ctx) => ctx.migrations([]))]);
      const err = await bootError(kernel);
      assert.equal(err.code, 'REG_ERR_PLUGIN_REGISTER');
      assert.equal(err.plugin, id);
      assert.match(err.message, /owner must be kebab-case and at most 40 characters/);
    });

    it('fail boot with REG_ERR_DATABASE naming the plugin', async () => {
      const db = await create();
      const broken = extension('broken', (ctx) => ctx.migrations([{ name: '001_bad', up: async (k) => void (await k.raw('select * from no_such_table_here')) }]));
      const kernel = await makeKernel({ database: db.config, extensions: { broken: {} } }, [broken]);
      const err = await bootError(kernel);
      assert.equal(err.code, 'REG_ERR_DATABASE');
      assert.equal(err.plugin, 'broken');
      assert.match(err.message, /plugin "broken": migrations failed: .*no_such_table_here/);
    });
  });
});
