import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KernelError, type KernelErrorCode } from '@wharf/sdk';
import { pluginDir, refSource, writePluginModule } from './fixtures/plugin-modules.js';
import { verifyPlugin } from './index.js';

/** verifyPlugin on the first-party packages and on throwaway third-party modules in a temp dir. */

let dir: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir, cleanup } = await pluginDir());
  await writePluginModule(dir, 'node_modules/wharf-plugin-extension-hello', {
    id: 'hello',
    kind: 'extension',
    schema: { type: 'object', properties: { greeting: { type: 'string', default: 'hi' } }, additionalProperties: false },
    register: `ctx.hooks.lifecycle.ready.tapPromise('x', async () => {});
      ctx.hooks.replication.target.for('oci').tap('x', () => undefined);
      ctx.provide(${refSource('hello.greeter')}, { factory: () => ({ greet: () => ctx.config.greeting }) });`,
  });
  await writePluginModule(dir, 'node_modules/wharf-plugin-extension-renamed', { id: 'other-name', kind: 'extension' });
  await writePluginModule(dir, 'local/greeter', { id: 'greeter', kind: 'extension', packageName: 'acme-greeter' });
  await writePluginModule(dir, 'local/future', { id: 'future', kind: 'extension', kernel: '^9.0.0' });
  await writePluginModule(dir, 'local/thrower', { id: 'thrower', kind: 'extension', register: `throw new Error('bad wiring');` });
  await writePluginModule(dir, 'local/eager', { id: 'eager', kind: 'extension', register: 'return Promise.resolve();' });
  await writePluginModule(dir, 'local/usurper', { id: 'usurper', kind: 'extension', register: `ctx.provide(${refSource('core.logger')}, { factory: () => ({}) });` });
  await writePluginModule(dir, 'local/empty-storage', { id: 'empty', kind: 'storage' });
  await writePluginModule(dir, 'local/unbuilt-ui', {
    id: 'unbuilt-ui',
    kind: 'extension',
    register: `ctx.ui.contribute({ directory: new URL('./dist-ui/', import.meta.url), module: 'page.js', slots: [{ slot: 'navigation', id: 'page', label: { en: 'Page' } }] });`,
  });
});
after(() => cleanup());

async function failure(promise: Promise<unknown>, code: KernelErrorCode): Promise<KernelError> {
  return promise.then(
    () => assert.fail(`expected ${code}`),
    (err: unknown) => {
      assert.ok(err instanceof KernelError, String(err));
      assert.equal(err.code, code, err.message);
      return err;
    },
  );
}

describe('verifyPlugin: first-party plugins', () => {
  it('loads storage fs by its id, applies the schema defaults, does no I/O', async () => {
    const v = await verifyPlugin('fs', { kind: 'storage', cwd: dir });
    assert.deepEqual({ ...v, version: undefined }, {
      id: 'fs',
      kind: 'storage',
      version: undefined,
      kernel: '^0.1.0',
      packageName: '@wharf/plugin-storage-fs',
      taps: [],
      services: ['core.storage'],
      initDeps: [],
      migrations: false,
      routes: false,
      config: { fsync: true },
    });
    assert.match(v.version, /^\d+\.\d+\.\d+/);
    assert.ok(Object.isFrozen(v.config));
    await assert.rejects(stat(path.join(dir, 'data')), { code: 'ENOENT' }, 'register did no I/O in the data dir');
  });

  it('loads the same plugin by package name', async () => {
    const byName = await verifyPlugin('@wharf/plugin-storage-fs', { kind: 'storage', config: { fsync: false } });
    assert.equal(byName.id, 'fs');
    assert.equal(byName.packageName, '@wharf/plugin-storage-fs');
    assert.deepEqual(byName.config, { fsync: false });
  });

  it('lists the service auth db provides, what its init needs and that it has migrations', async () => {
    const v = await verifyPlugin('db', { kind: 'auth' });
    assert.equal(v.packageName, '@wharf/plugin-auth-db');
    // Its taps are made in its init (they need the built user directory): none at register.
    assert.deepEqual(v.taps, []);
    assert.deepEqual(v.services, ['auth-db.users']);
    assert.deepEqual(v.initDeps, ['auth-db.users', 'core.database', 'core.events']);
    assert.equal(v.migrations, true);
  });

  it('lists the web UI slots a plugin fills, and finds their built module', async () => {
    const v = await verifyPlugin('@wharf/plugin-webhooks', { kind: 'extension' });
    assert.deepEqual(v.ui, [{ slot: 'project-tab', id: 'policies', module: 'webhooks-tab.js' }]);
    assert.equal((await verifyPlugin('db', { kind: 'auth' })).ui, undefined, 'absent without a contribution');
  });

  it('names a missing plugin with every package it tried', async () => {
    const err = await failure(verifyPlugin('nope', { kind: 'storage' }), 'REG_ERR_PLUGIN_NOT_FOUND');
    assert.match(err.message, /storage\.nope: no storage plugin "nope"; tried @wharf\/plugin-storage-nope, wharf-plugin-storage-nope/);
  });

  it('refuses the wrong kind: by id the package does not exist, by name the kind differs', async () => {
    const byId = await failure(verifyPlugin('fs', { kind: 'auth' }), 'REG_ERR_PLUGIN_NOT_FOUND');
    assert.match(byId.message, /auth\[0\]\.fs: no auth plugin "fs"; tried @wharf\/plugin-auth-fs/);
    const byName = await failure(verifyPlugin('@wharf/plugin-storage-fs', { kind: 'auth' }), 'REG_ERR_PLUGIN_KIND_MISMATCH');
    assert.match(byName.message, /plugin "fs" at auth\[0\]\["@wharf\/plugin-storage-fs"\] is a storage plugin, not auth/);
    assert.equal(byName.plugin, 'fs');
  });

  it('reports every config problem at its exact key path, naming the plugin', async () => {
    const err = await failure(verifyPlugin('fs', { kind: 'storage', config: { root: 7, fsyn: true } }), 'REG_ERR_CONFIG_INVALID');
    assert.equal(err.plugin, 'fs');
    assert.match(err.message, /^plugin "fs": invalid configuration:/);
    assert.match(err.message, /storage\.fs\.root: must be string/);
    assert.match(err.message, /storage\.fs\.fsyn: is not a known key/);
    const nested = await failure(verifyPlugin('db', { kind: 'auth', config: { bootstrapAdmin: { username: 'Admin' } } }), 'REG_ERR_CONFIG_INVALID');
    assert.match(nested.message, /auth\[0\]\.db\.bootstrapAdmin\.username: /);
  });

  it('catches what register() refuses, naming the plugin', async () => {
    const err = await failure(verifyPlugin('db', { kind: 'auth', config: { passwordPolicy: { minLength: 20, maxLength: 10 } } }), 'REG_ERR_PLUGIN_REGISTER');
    assert.match(err.message, /plugin "db" \(auth\[0\]\.db\) failed in register\(\): .*minLength \(20\) is greater than maxLength \(10\)/);
  });
});

describe('verifyPlugin: third-party modules', () => {
  it('resolves wharf-plugin-<kind>-<id> from cwd and reports taps, hook-map taps and services', async () => {
    const v = await verifyPlugin('hello', { kind: 'extension', cwd: dir });
    assert.deepEqual(v, {
      id: 'hello',
      kind: 'extension',
      version: '1.0.0',
      kernel: '^0.1.0',
      packageName: 'wharf-plugin-extension-hello',
      taps: ['replication.target[oci]', 'lifecycle.ready'],
      services: ['hello.greeter'],
      initDeps: [],
      migrations: false,
      routes: false,
      config: { greeting: 'hi' },
    });
  });

  it('resolves a relative path against cwd and takes the package name from its package.json', async () => {
    const v = await verifyPlugin('./local/greeter', { kind: 'extension', cwd: dir });
    assert.equal(v.id, 'greeter');
    assert.equal(v.packageName, 'acme-greeter');
  });

  it('refuses a plugin whose UI module is not built', async () => {
    const err = await failure(verifyPlugin('./local/unbuilt-ui', { kind: 'extension', cwd: dir }), 'REG_ERR_PLUGIN_REGISTER');
    assert.match(err.message, /plugin "unbuilt-ui": its UI module .*dist-ui\/page\.js does not exist/);
  });

  it('refuses a package whose id differs from the key', async () => {
    const err = await failure(verifyPlugin('renamed', { kind: 'extension', cwd: dir }), 'REG_ERR_PLUGIN_INVALID');
    assert.match(err.message, /extensions\.renamed: the package declares plugin id "other-name", expected "renamed"/);
  });

  it('refuses a kernel range this kernel is outside of', async () => {
    const err = await failure(verifyPlugin('./local/future', { kind: 'extension', cwd: dir }), 'REG_ERR_PLUGIN_KERNEL_MISMATCH');
    assert.match(err.message, /plugin "future" 1\.0\.0 needs kernel \^9\.0\.0, but this is kernel \d+\.\d+\.\d+/);
  });

  it('refuses a register() that throws or returns a promise', async () => {
    const thrown = await failure(verifyPlugin('./local/thrower', { kind: 'extension', cwd: dir }), 'REG_ERR_PLUGIN_REGISTER');
    assert.match(thrown.message, /plugin "thrower" \(extensions\["\.\/local\/thrower"\]\) failed in register\(\): bad wiring/);
    const eager = await failure(verifyPlugin('./local/eager', { kind: 'extension', cwd: dir }), 'REG_ERR_PLUGIN_REGISTER');
    assert.match(eager.message, /"eager".*returned a promise/);
  });

  it('refuses a plugin providing a kernel service, and a storage plugin providing no storage', async () => {
    const usurper = await failure(verifyPlugin('./local/usurper', { kind: 'extension', cwd: dir }), 'REG_ERR_SERVICE_DUPLICATE');
    assert.match(usurper.message, /core\.logger is provided twice: by "kernel" and by "usurper"/);
    const empty = await failure(verifyPlugin('./local/empty-storage', { kind: 'storage', cwd: dir }), 'REG_ERR_SERVICE_MISSING');
    assert.match(empty.message, /storage plugin "empty" did not provide core\.storage/);
  });
});
