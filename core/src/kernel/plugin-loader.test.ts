import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KernelError } from '@wharf/sdk';
import { loadConfig } from '../config/load-config.js';
import { KERNEL_VERSION } from '../version.js';
import { tempDir, writePluginPackage } from './test-support.js';

/**
 * The production loader against real packages installed into a temp `node_modules` next to a
 * config file: resolution order, the checks on what a module exports, and the plugin graph.
 */

let dir: string;
let cleanup: () => Promise<void>;

async function load(yaml: string) {
  const file = path.join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, `dataDir: ${dir}/data\n${yaml}`);
  return loadConfig({ file, env: {} });
}

async function loadError(yaml: string): Promise<KernelError> {
  return load(yaml).then(
    () => assert.fail('expected the config to fail'),
    (err: unknown) => {
      assert.ok(err instanceof KernelError, `expected a KernelError, got ${String(err)}`);
      return err;
    },
  );
}

describe('plugin loader', () => {
  before(async () => {
    ({ dir, cleanup } = await tempDir('wharf-loader-'));
    await writePluginPackage(dir, { name: 'wharf-plugin-extension-hello', id: 'hello', kind: 'extension', version: '2.0.0' });
    // Both naming schemes installed: the first-party scope wins.
    await writePluginPackage(dir, { name: '@wharf/plugin-extension-both', id: 'both', kind: 'extension', version: '1.1.1' });
    await writePluginPackage(dir, { name: 'wharf-plugin-extension-both', id: 'both', kind: 'extension', version: '9.9.9' });
    await writePluginPackage(dir, { name: 'wharf-plugin-extension-future', id: 'future', kind: 'extension', kernel: '^9.0.0' });
    await writePluginPackage(dir, { name: 'wharf-plugin-extension-sneaky', id: 'sneaky', kind: 'auth' });
    await writePluginPackage(dir, { name: 'wharf-plugin-extension-renamed', id: 'other-name', kind: 'extension' });
    await writePluginPackage(dir, { name: 'wharf-plugin-extension-plain', id: 'plain', kind: 'extension', source: 'export default { id: "plain" };\n' });
    await writePluginPackage(dir, { name: 'wharf-plugin-extension-broken', id: 'broken', kind: 'extension', source: 'throw new Error("cannot start");\n' });
    await writePluginPackage(dir, { name: '@acme/wharf-greeter', id: 'greeter', kind: 'extension' });
    await writePluginPackage(dir, { name: '@acme/hello-again', id: 'hello', kind: 'extension' });
    await writePluginPackage(dir, { name: 'wharf-plugin-extension-needs-base', id: 'needs-base', kind: 'extension', dependsOn: ['base'] });
    await writePluginPackage(dir, { name: 'wharf-plugin-extension-base', id: 'base', kind: 'extension' });
    await writePluginPackage(dir, { name: 'wharf-plugin-extension-needs-ghost', id: 'needs-ghost', kind: 'extension', dependsOn: ['ghost'] });
    await writePluginPackage(dir, { name: 'wharf-plugin-extension-ping', id: 'ping', kind: 'extension', dependsOn: ['pong'] });
    await writePluginPackage(dir, { name: 'wharf-plugin-extension-pong', id: 'pong', kind: 'extension', dependsOn: ['ping'] });
  });

  after(() => cleanup());

  it('resolves a key from the config file directory (third-party name)', async () => {
    const loaded = await load('extensions:\n  hello: {}\n');
    const hello = loaded.plugins.find((p) => p.plugin.id === 'hello');
    assert.equal(hello?.source, 'wharf-plugin-extension-hello');
    assert.equal(hello?.plugin.version, '2.0.0');
    assert.equal(hello?.configPath, 'extensions.hello');
  });

  it('prefers @wharf/plugin-<kind>-<key> over wharf-plugin-<kind>-<key>', async () => {
    const loaded = await load('extensions:\n  both: {}\n');
    const both = loaded.plugins.find((p) => p.plugin.id === 'both');
    assert.equal(both?.source, '@wharf/plugin-extension-both');
    assert.equal(both?.plugin.version, '1.1.1');
  });

  it("falls back to core's own location for first-party plugins", async () => {
    const loaded = await load('storage:\n  fs: {}\n');
    assert.equal(loaded.plugins[0]?.source, '@wharf/plugin-storage-fs');
    assert.equal(loaded.plugins[0]?.plugin.kind, 'storage');
  });

  it('uses a scoped key as the package name; the plugin id comes from the plugin', async () => {
    const loaded = await load('extensions:\n  "@acme/wharf-greeter": {}\n');
    const greeter = loaded.plugins.find((p) => p.source === '@acme/wharf-greeter');
    assert.equal(greeter?.plugin.id, 'greeter');
    assert.equal(greeter?.key, '@acme/wharf-greeter');
  });

  it('REG_ERR_PLUGIN_NOT_FOUND names the key and every package tried', async () => {
    const err = await loadError('extensions:\n  nowhere: {}\n');
    assert.equal(err.code, 'REG_ERR_PLUGIN_NOT_FOUND');
    assert.equal(err.plugin, 'nowhere');
    assert.match(err.message, /extensions\.nowhere/);
    assert.match(err.message, /@wharf\/plugin-extension-nowhere, @wharf\/plugin-nowhere, wharf-plugin-extension-nowhere/);
  });

  it('REG_ERR_PLUGIN_KERNEL_MISMATCH when the kernel is outside the declared range', async () => {
    const err = await loadError('extensions:\n  future: {}\n');
    assert.equal(err.code, 'REG_ERR_PLUGIN_KERNEL_MISMATCH');
    assert.equal(err.plugin, 'future');
    assert.ok(err.message.includes('^9.0.0') && err.message.includes(KERNEL_VERSION), err.message);
  });

  it('REG_ERR_PLUGIN_KIND_MISMATCH when the plugin is of another kind than its section', async () => {
    const err = await loadError('extensions:\n  sneaky: {}\n');
    assert.equal(err.code, 'REG_ERR_PLUGIN_KIND_MISMATCH');
    assert.match(err.message, /"sneaky".*auth plugin, not extension/);
  });

  it('rejects a package whose plugin id differs from the key', async () => {
    const err = await loadError('extensions:\n  renamed: {}\n');
    assert.equal(err.code, 'REG_ERR_PLUGIN_INVALID');
    assert.match(err.message, /declares plugin id "other-name", expected "renamed"/);
  });

  it('rejects a module that exports no branded plugin, and one that throws on import', async () => {
    const plain = await loadError('extensions:\n  plain: {}\n');
    assert.equal(plain.code, 'REG_ERR_PLUGIN_INVALID');
    assert.match(plain.message, /exports no Wharf plugin/);
    const broken = await loadError('extensions:\n  broken: {}\n');
    assert.equal(broken.code, 'REG_ERR_PLUGIN_INVALID');
    assert.match(broken.message, /cannot start/);
  });

  it('REG_ERR_PLUGIN_DUPLICATE when two keys load plugins with the same id and kind', async () => {
    const err = await loadError('extensions:\n  hello: {}\n  "@acme/hello-again": {}\n');
    assert.equal(err.code, 'REG_ERR_PLUGIN_DUPLICATE');
    assert.match(err.message, /extensions\.hello.*extensions\["@acme\/hello-again"\]/);
  });

  it('orders plugins after their dependencies, otherwise in config order', async () => {
    const loaded = await load('extensions:\n  needs-base: {}\n  hello: {}\n  base: {}\n');
    // The defaults (db users, projects, the OCI replication target, the audit log) come first, in section order.
    assert.deepEqual(
      loaded.plugins.map((p) => p.plugin.id),
      ['fs', 'db', 'projects', 'oci', 'audit', 'hello', 'base', 'needs-base'],
    );
  });

  it('fails on a missing dependency and on a cycle, naming the plugins', async () => {
    const missing = await loadError('extensions:\n  needs-ghost: {}\n');
    assert.equal(missing.code, 'REG_ERR_PLUGIN_DEPENDENCY');
    assert.match(missing.message, /"needs-ghost".*depends on plugin "ghost"/);
    const cycle = await loadError('extensions:\n  ping: {}\n  pong: {}\n');
    assert.equal(cycle.code, 'REG_ERR_PLUGIN_DEPENDENCY');
    assert.match(cycle.message, /cycle: ping -> pong -> ping/);
  });
});
