import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import {
  type ManagementApi,
  coreServices,
  isWharfPlugin,
  type PluginContext,
  type PluginHooks,
  type ServiceDeps,
  type ServiceFactory,
  type ServiceRef,
} from '@wharf/sdk';
import { verifyPlugin } from '@wharf/sdk-testing';
import defaultExport, { storageFsPlugin, type FsConfig } from './index.js';
import { FsStorageDriver } from './fs-driver.js';
import { FS_PLUGIN_VERSION } from './version.js';

interface Provided {
  ref: ServiceRef<unknown>;
  factory: ServiceFactory<unknown, ServiceDeps>;
}

/** A real (not mocked) register context that records what the plugin declares. */
function recordingContext(config: FsConfig, dataDir: string): { ctx: PluginContext<FsConfig>; provided: Provided[]; tapped: string[] } {
  const provided: Provided[] = [];
  const tapped: string[] = [];
  // Any hook access is recorded: the fs plugin declares a service and taps nothing.
  const hooks = new Proxy({} as PluginHooks, {
    get(_target, domain) {
      tapped.push(String(domain));
      return undefined;
    },
  });
  const ctx: PluginContext<FsConfig> = {
    id: 'fs',
    config: Object.freeze({ ...config }),
    logger: pino({ enabled: false }),
    settings: Object.freeze({ dataDir, publicUrl: 'http://127.0.0.1:5000' }),
    hooks,
    api: { operation: () => void tapped.push('api') } as ManagementApi,
    events: { subscribe: () => void tapped.push('events') },
    ui: { contribute: () => void tapped.push('ui') },
    provide(ref, factory) {
      provided.push({ ref, factory: factory as ServiceFactory<unknown, ServiceDeps> });
    },
    registerInit: () => void tapped.push('init'),
    migrations: () => void tapped.push('migrations'),
    routes: () => void tapped.push('routes'),
  };
  return { ctx, provided, tapped };
}

describe('storageFsPlugin', () => {
  it('loads through the production loader as @wharf/plugin-storage-fs, exported by default and by name', async () => {
    const pkgPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json');
    const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as { name: string; version: string };
    assert.deepEqual(await verifyPlugin('fs', { kind: 'storage' }), {
      id: 'fs',
      kind: 'storage',
      version: pkg.version,
      kernel: '^0.1.0',
      packageName: pkg.name,
      taps: [],
      services: [coreServices.storage.id],
      initDeps: [],
      migrations: false,
      routes: false,
      config: { fsync: true },
    });
    assert.ok(isWharfPlugin(storageFsPlugin));
    assert.equal(defaultExport, storageFsPlugin);
    assert.equal(FS_PLUGIN_VERSION, pkg.version);
  });

  it('refuses a bad section at its key path', async () => {
    await assert.rejects(verifyPlugin('fs', { kind: 'storage', config: { root: 7, fsnc: false } }), (err: Error) => {
      assert.match(err.message, /storage\.fs\.root: must be string/);
      assert.match(err.message, /storage\.fs\.fsnc: is not a known key/);
      return true;
    });
  });

  it('declares a closed config schema with fsync on by default', () => {
    const schema = storageFsPlugin.configSchema;
    assert.equal(schema.additionalProperties, false);
    assert.equal(schema.properties.fsync.default, true);
    assert.deepEqual(schema.required, ['fsync']);
    assert.equal(schema.properties.root.type, 'string');
  });

  it('provides the storage service without I/O, rooted in the data dir by default', async () => {
    const parent = await mkdtemp(path.join(tmpdir(), 'wharf-fs-register-'));
    try {
      const dataDir = path.join(parent, 'data');
      const { ctx, provided, tapped } = recordingContext({ fsync: true }, dataDir);
      storageFsPlugin.register(ctx);
      assert.equal(provided.length, 1);
      assert.equal(provided[0]?.ref, coreServices.storage);
      assert.deepEqual(tapped, []);
      await assert.rejects(stat(dataDir), { code: 'ENOENT' }, 'register does no I/O');

      const driver = provided[0]?.factory.factory({});
      assert.ok(driver instanceof FsStorageDriver);
      assert.equal(driver.name, 'fs');
      assert.equal(driver.root, dataDir);
      await assert.rejects(stat(dataDir), { code: 'ENOENT' }, 'the factory does no I/O');
      await driver.healthCheck();
      assert.ok((await stat(path.join(dataDir, 'blobs'))).isDirectory());
      assert.ok((await stat(path.join(dataDir, 'uploads'))).isDirectory());
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('honours a configured root, relative to the data dir or absolute', () => {
    const dataDir = path.join(tmpdir(), 'wharf-fs-data');
    for (const [root, expected] of [
      ['blob-store', path.join(dataDir, 'blob-store')],
      ['/srv/wharf/blobs', '/srv/wharf/blobs'],
    ] as const) {
      const { ctx, provided } = recordingContext({ root, fsync: false }, dataDir);
      storageFsPlugin.register(ctx);
      const driver = provided[0]?.factory.factory({});
      assert.ok(driver instanceof FsStorageDriver);
      assert.equal(driver.root, expected);
    }
  });
});
