import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ANONYMOUS,
  definePlugin,
  KernelError,
  RegistryError,
  Type,
  type ArtifactPulledEvent,
  type BlobCommittedEvent,
  type DeleteContext,
  type ManifestDeletedEvent,
  type ManifestPushedEvent,
  type ManifestPutContext,
  type PluginContext,
  type Principal,
  type PullContext,
  type ReplicationStatusEvent,
  type ReplicationTarget,
  type RequestInfo,
} from '@wharf/sdk';
import { loadConfig } from '../config/load-config.js';
import { createKernel, type Kernel } from '../kernel/kernel.js';
import { baseConfig, captureLogs, tempDir, type CapturedLogs } from '../kernel/test-support.js';
import { createHooks, createPluginHooks, hasTaps, pluginOfError } from './index.js';

/**
 * Taps every hook of the catalogue through a test plugin (so through the tap-only facade the
 * kernel hands to `register`) and calls each the way the kernel does, checking the semantics of
 * each hook kind.
 */

const request: RequestInfo = { requestId: 'r1', ip: '127.0.0.1', method: 'GET', path: '/v2/', userAgent: 'test' };
const alice: Principal = { subject: 'alice', kind: 'user', provider: 'hooks-a', groups: [], admin: false };
const digest = `sha256:${'a'.repeat(64)}`;

/** What the taps record, in order. */
const calls: string[] = [];
let savedCtx: PluginContext<Record<string, unknown>> | undefined;

const first = definePlugin({
  id: 'hooks-a',
  kind: 'extension',
  version: '1.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    savedCtx = ctx as unknown as PluginContext<Record<string, unknown>>;
    const h = ctx.hooks;
    // The tap name given here is ignored: the facade forces the plugin id.
    h.auth.authenticate.tapPromise('pretend-to-be-someone-else', async () => {
      calls.push('authenticate:a');
      return undefined;
    });
    h.auth.principal.tapPromise('x', async (p) => ({ ...p, groups: [...p.groups, 'from-a'] }));
    h.rbac.authorize.tapPromise('x', async () => {
      calls.push('authorize:a');
      return undefined;
    });
    h.registry.beforeManifestPut.tapPromise('x', async (c) => {
      calls.push(`beforeManifestPut:a:${c.repository}`);
    });
    h.registry.beforeDelete.tapPromise('x', async () => {
      calls.push('beforeDelete:a');
      throw new RegistryError('DENIED', 'immutable');
    });
    h.registry.beforePull.tap('x', () => {
      calls.push('beforePull:a');
    });
    const slowEvent = (name: string) => async () => {
      calls.push(`${name}:a:start`);
      await sleep(30);
      calls.push(`${name}:a:end`);
    };
    h.registry.manifestPushed.tapPromise('x', slowEvent('manifestPushed'));
    h.registry.manifestDeleted.tapPromise('x', slowEvent('manifestDeleted'));
    h.registry.blobCommitted.tapPromise('x', slowEvent('blobCommitted'));
    h.registry.artifactPulled.tapAsync('x', (_e, cb) => {
      calls.push('artifactPulled:a');
      cb();
    });
    h.replication.target.for('acme').tap('x', () => undefined);
    h.replication.statusChanged.tapPromise('x', slowEvent('statusChanged'));
    h.lifecycle.ready.tapPromise('x', async () => {
      calls.push('ready:a');
    });
    h.lifecycle.close.tapPromise('x', async () => {
      calls.push('close:a');
    });
  },
});

const second = definePlugin({
  id: 'hooks-b',
  kind: 'extension',
  version: '1.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    const h = ctx.hooks;
    h.auth.authenticate.tapPromise('x', async (creds) => {
      calls.push('authenticate:b');
      return creds.kind === 'basic' ? alice : undefined;
    });
    h.auth.principal.tapPromise('x', async (p) => ({ ...p, groups: [...p.groups, 'from-b'] }));
    h.rbac.authorize.tapPromise('x', async (_p, access) => {
      calls.push('authorize:b');
      return access.action === 'pull' ? { allow: true } : { allow: false, reason: 'read only' };
    });
    h.registry.beforeManifestPut.tapPromise('x', async () => {
      calls.push('beforeManifestPut:b');
    });
    h.registry.beforeDelete.tapPromise('x', async () => {
      calls.push('beforeDelete:b'); // never reached: a threw first
    });
    h.registry.beforePull.tapPromise('x', async () => {
      calls.push('beforePull:b');
    });
    const fastEvent = (name: string) => async () => {
      calls.push(`${name}:b:start`);
      await sleep(5);
      calls.push(`${name}:b:end`);
    };
    h.registry.manifestPushed.tapPromise('x', fastEvent('manifestPushed'));
    h.registry.manifestDeleted.tapPromise('x', fastEvent('manifestDeleted'));
    h.registry.blobCommitted.tapPromise('x', fastEvent('blobCommitted'));
    h.registry.artifactPulled.tapPromise('x', async () => {
      calls.push('artifactPulled:b');
    });
    h.replication.target.for('acme').tap('x', (endpoint) => ({ endpoint: endpoint.url }) as unknown as ReplicationTarget);
    h.replication.statusChanged.tapPromise('x', fastEvent('statusChanged'));
    h.lifecycle.ready.tapPromise('x', async () => {
      calls.push('ready:b');
    });
    h.lifecycle.close.tapPromise('x', async () => {
      calls.push('close:b');
    });
    // A later tap with an earlier stage runs first: stage is kept, only the name is forced.
    h.lifecycle.ready.tap({ name: 'ignored', stage: -10 }, () => {
      calls.push('ready:b-early');
    });
  },
});

describe('hook catalogue through the plugin facade', () => {
  let kernel: Kernel;
  let logs: CapturedLogs;
  let cleanup: () => Promise<void>;

  before(async () => {
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    logs = captureLogs();
    const loaded = await loadConfig({
      config: baseConfig(tmp.dir, { extensions: { 'hooks-a': {}, 'hooks-b': {} } }),
      env: {},
      plugins: [first, second],
    });
    kernel = createKernel(loaded, { logDestination: logs.stream });
    await kernel.boot();
  });

  after(async () => {
    await kernel.close();
    await cleanup();
  });

  it('ran lifecycle.ready taps (parallel, stage respected) during boot', () => {
    const ready = calls.filter((c) => c.startsWith('ready:'));
    assert.deepEqual(ready, ['ready:b-early', 'ready:a', 'ready:b']);
  });

  it('named every tap after its plugin, whatever name the plugin passed', () => {
    assert.deepEqual(kernel.hooks.auth.authenticate.taps.map((t) => t.name), ['hooks-a', 'hooks-b']);
    const tapped = logs.lines().filter((l) => l.msg === 'hook tapped' && l.hook === 'auth.authenticate');
    assert.deepEqual(tapped.map((l) => l.plugin), ['hooks-a', 'hooks-b']);
  });

  it('auth.authenticate bails at the first answer; undefined asks the next tap', async () => {
    calls.length = 0;
    const p = await kernel.hooks.auth.authenticate.promise({ kind: 'basic', username: 'alice', password: 'pw' }, request);
    assert.equal(p?.subject, 'alice');
    assert.deepEqual(calls, ['authenticate:a', 'authenticate:b']);
    const none = await kernel.hooks.auth.authenticate.promise({ kind: 'anonymous' }, request);
    assert.equal(none, undefined);
  });

  it('auth.principal is a waterfall: each tap sees the previous result', async () => {
    const p = await kernel.hooks.auth.principal.promise(alice, request);
    assert.deepEqual(p.groups, ['from-a', 'from-b']);
  });

  it('rbac.authorize bails with the first explicit decision', async () => {
    calls.length = 0;
    const access = { resource: { type: 'repository' as const, name: 'x' }, action: 'push' };
    assert.deepEqual(await kernel.hooks.rbac.authorize.promise(ANONYMOUS, access), { allow: false, reason: 'read only' });
    assert.deepEqual(calls, ['authorize:a', 'authorize:b']);
  });

  it('registry gates run in series; a throw stops the chain and names the plugin', async () => {
    calls.length = 0;
    const put = { repository: 'library/app', principal: ANONYMOUS, request } as unknown as ManifestPutContext;
    await kernel.hooks.registry.beforeManifestPut.promise(put);
    assert.deepEqual(calls, ['beforeManifestPut:a:library/app', 'beforeManifestPut:b']);

    calls.length = 0;
    const del = { repository: 'x', target: { kind: 'manifest', digest }, principal: ANONYMOUS, request } as DeleteContext;
    const err = await kernel.hooks.registry.beforeDelete.promise(del).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof RegistryError && err.code === 'DENIED');
    assert.deepEqual(calls, ['beforeDelete:a']);
    assert.deepEqual(pluginOfError(err), { plugin: 'hooks-a', hook: 'registry.beforeDelete' });
    const failed = logs.lines().find((l) => l.msg === 'hook tap failed');
    assert.equal(failed?.plugin, 'hooks-a');
    assert.equal(failed?.hook, 'registry.beforeDelete');

    calls.length = 0;
    await kernel.hooks.registry.beforePull.promise({ repository: 'x' } as PullContext);
    assert.deepEqual(calls, ['beforePull:a', 'beforePull:b']);
  });

  it('registry events run in parallel: every tap starts before the slow one ends', async () => {
    const events = [
      ['manifestPushed', () => kernel.hooks.registry.manifestPushed.promise({} as ManifestPushedEvent)],
      ['manifestDeleted', () => kernel.hooks.registry.manifestDeleted.promise({} as ManifestDeletedEvent)],
      ['blobCommitted', () => kernel.hooks.registry.blobCommitted.promise({} as BlobCommittedEvent)],
      ['statusChanged', () => kernel.hooks.replication.statusChanged.promise({} as ReplicationStatusEvent)],
    ] as const;
    for (const [name, fire] of events) {
      calls.length = 0;
      await fire();
      assert.deepEqual(calls, [`${name}:a:start`, `${name}:b:start`, `${name}:b:end`, `${name}:a:end`], name);
    }
    calls.length = 0;
    await kernel.hooks.registry.artifactPulled.promise({} as ArtifactPulledEvent);
    assert.deepEqual(calls.sort(), ['artifactPulled:a', 'artifactPulled:b']);
  });

  it('replication.target is a hook map of bail hooks keyed by type', () => {
    const target = kernel.hooks.replication.target.for('acme').call({ name: 'test', type: 'acme', url: 'https://r.example' });
    assert.deepEqual(target, { endpoint: 'https://r.example' });
    assert.equal(kernel.hooks.replication.target.for('s3').call({ name: 'test', type: 's3', url: 'x' }), undefined);
    assert.equal(hasTaps(kernel.hooks.replication.target), true);
  });

  it('is sealed after ready: taps and provide throw REG_ERR_PLUGIN_SEALED', () => {
    assert.ok(savedCtx);
    const ctx = savedCtx;
    const sealed = (fn: () => void) =>
      assert.throws(fn, (e: unknown) => e instanceof KernelError && e.code === 'REG_ERR_PLUGIN_SEALED' && e.plugin === 'hooks-a');
    sealed(() => ctx.hooks.auth.authenticate.tapPromise('late', async () => undefined));
    sealed(() => ctx.hooks.registry.manifestPushed.tap('late', () => undefined));
    sealed(() => ctx.hooks.replication.target.for('acme').tap('late', () => undefined));
    sealed(() => ctx.provide({ $$type: 'wharf/ServiceRef', id: 'late.service' }, { factory: () => 1 }));
    assert.equal(kernel.hooks.auth.authenticate.taps.length, 2, 'nothing was added');
  });

  it('the facade offers taps only', () => {
    assert.ok(savedCtx);
    const hook = savedCtx.hooks.auth.authenticate as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(hook).sort(), ['tap', 'tapAsync', 'tapPromise']);
    assert.equal(hook.promise, undefined);
    assert.ok(Object.isFrozen(savedCtx.hooks) && Object.isFrozen(savedCtx.hooks.registry));
  });

  it('lifecycle.close runs the latest-registered tap first', async () => {
    calls.length = 0;
    await kernel.close();
    assert.deepEqual(calls.filter((c) => c.startsWith('close:')), ['close:b', 'close:a']);
  });
});

describe('createHooks', () => {
  it('is deeply frozen down to the hooks', () => {
    const hooks = createHooks();
    assert.ok(Object.isFrozen(hooks));
    for (const domain of Object.values(hooks)) assert.ok(Object.isFrozen(domain));
    assert.throws(() => {
      (hooks.auth as unknown as Record<string, unknown>).authenticate = null;
    }, TypeError);
  });

  it('hasTaps and isUsed only count taps, not the kernel interceptor', () => {
    const hooks = createHooks();
    assert.equal(hasTaps(hooks.rbac.authorize), false);
    assert.equal(hooks.rbac.authorize.isUsed(), false);
    assert.equal(hasTaps(hooks.replication.target), false);
    createPluginHooks(hooks, 'p', () => false).rbac.authorize.tapPromise('p', async () => undefined);
    assert.equal(hasTaps(hooks.rbac.authorize), true);
    assert.equal(hooks.rbac.authorize.isUsed(), true);
  });

  it('close order reverses also with taps made directly on the kernel hooks', async () => {
    const hooks = createHooks();
    const order: string[] = [];
    for (const name of ['one', 'two', 'three']) hooks.lifecycle.close.tap(name, () => void order.push(name));
    await hooks.lifecycle.close.promise();
    assert.deepEqual(order, ['three', 'two', 'one']);
  });

  it('tags errors from callback-style and sync taps with the plugin id', async () => {
    const hooks = createHooks();
    const facade = createPluginHooks(hooks, 'cb-plugin', () => false);
    facade.registry.beforePull.tapAsync('x', (_c, cb) => cb(new Error('nope')));
    const err = await hooks.registry.beforePull.promise({} as PullContext).then(() => undefined, (e: unknown) => e);
    assert.deepEqual(pluginOfError(err), { plugin: 'cb-plugin', hook: 'registry.beforePull' });

    const facade2 = createPluginHooks(hooks, 'sync-plugin', () => false);
    facade2.replication.target.for('x').tap('x', () => {
      throw new Error('boom');
    });
    let thrown: unknown;
    try {
      hooks.replication.target.for('x').call({ name: 'test', type: 'x', url: 'u' });
    } catch (e) {
      thrown = e;
    }
    assert.deepEqual(pluginOfError(thrown), { plugin: 'sync-plugin', hook: 'replication.target:x' });
  });
});
