import assert from 'node:assert/strict';
import { rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import {
  coreServices,
  createServiceRef,
  definePlugin,
  KernelError,
  Type,
  type KernelSettings,
  type Logger,
  type WharfPlugin,
} from '@wharf/sdk';
import { loadConfig } from '../config/load-config.js';
import { createKernel, type Kernel } from './kernel.js';
import { baseConfig, captureLogs, tempDir, type CapturedLogs } from './test-support.js';

/** Boot, seal and close, with real fs storage and SQLite in a temp dir. */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

interface Booted {
  kernel: Kernel;
  logs: CapturedLogs;
  dir: string;
}

async function makeKernel(extra: Record<string, unknown>, plugins: WharfPlugin[] = [], log: Record<string, unknown> = {}): Promise<Booted> {
  const tmp = await tempDir();
  const logs = captureLogs();
  const config = baseConfig(tmp.dir, extra);
  config.log = { ...(config.log as object), ...log };
  const loaded = await loadConfig({ config, env: {}, plugins });
  const kernel = createKernel(loaded, { logDestination: logs.stream });
  cleanups.push(async () => {
    await kernel.close();
    await tmp.cleanup();
  });
  return { kernel, logs, dir: tmp.dir };
}

function extension(id: string, register: WharfPlugin['register'], extra: Partial<WharfPlugin> = {}): WharfPlugin {
  return definePlugin({ id, kind: 'extension', version: '1.2.3', kernel: '^0.1.0', configSchema: Type.Object({}), register, ...extra });
}

async function bootError(booted: Booted): Promise<KernelError> {
  return booted.kernel.boot().then(
    () => assert.fail('boot should have failed'),
    (err: unknown) => {
      assert.ok(err instanceof KernelError, `expected a KernelError, got ${String(err)}`);
      return err;
    },
  );
}

const greeterRef = createServiceRef<{ greet(): string }>({ id: 'test.greeter' });
const clockRef = createServiceRef<{ now(): number }>({ id: 'test.clock' });

describe('kernel boot', () => {
  it('boots fs + SQLite, logs one line per plugin and the ready line', async () => {
    const b = await makeKernel({});
    await b.kernel.boot();
    assert.equal(b.kernel.state, 'ready');
    const registered = b.logs.lines().filter((l) => l.msg === 'plugin registered');
    // fs storage, and the OCI replication target and webhooks every kernel loads by default.
    assert.deepEqual(registered.map((r) => [r.plugin, r.kind]), [['fs', 'storage'], ['oci', 'replication']]);
    assert.equal(typeof registered[0]?.version, 'string');
    assert.equal(typeof registered[0]?.ms, 'number');
    assert.ok(b.logs.lines().some((l) => l.msg === 'kernel ready'));
    // Migrations ran: the SQLite file exists in the data dir, and the store answers.
    assert.ok((await stat(path.join(b.dir, 'wharf.db'))).isFile());
    assert.deepEqual(await b.kernel.metadata().listRepositories({ n: 10, last: undefined }), []);
  });

  it('prints a boot tree in pretty mode', async () => {
    const b = await makeKernel({ extensions: { greeter: {} } }, [extension('greeter', () => undefined)], { format: 'pretty' });
    await b.kernel.boot();
    const text = b.logs.text();
    assert.match(text, /wharf \d+\.\d+\.\d+ ready in/);
    assert.match(text, /├─ storage fs@\S+ \([\d.]+ ms\) provides core\.storage/);
    assert.match(text, /extension greeter@1\.2\.3/);
    assert.match(text, /└─ lifecycle\.ready/);
  });

  it('warns that the registry is open when nobody taps auth.authenticate or rbac.authorize', async () => {
    const open = await makeKernel({});
    await open.kernel.boot();
    const warning = open.logs.lines().find((l) => l.level === 40 && String(l.msg).includes('registry is open'));
    assert.ok(warning, 'open-registry warning logged');

    const guarded = await makeKernel({ extensions: { guard: {} } }, [
      extension('guard', (ctx) => ctx.hooks.rbac.authorize.tapPromise('guard', async () => ({ allow: false }))),
    ]);
    await guarded.kernel.boot();
    assert.ok(!guarded.logs.text().includes('registry is open'));
  });

  it('provides services with typed deps, builds singletons at boot and disposes them at close', async () => {
    const events: string[] = [];
    let seenSettings: KernelSettings | undefined;
    let seenLogger: Logger | undefined;
    const provider = extension('greeter', (ctx) => {
      ctx.provide(greeterRef, {
        deps: { settings: coreServices.settings, logger: coreServices.logger, clock: clockRef },
        factory: ({ settings, logger, clock }) => {
          events.push('greeter built');
          seenSettings = settings;
          seenLogger = logger;
          return { greet: () => `hello at ${clock.now()}` };
        },
        dispose: () => void events.push('greeter disposed'),
      });
      ctx.provide(clockRef, { factory: () => (events.push('clock built'), { now: () => 42 }) });
    });
    const b = await makeKernel({ extensions: { greeter: {} } }, [provider]);
    await b.kernel.boot();
    // Built during boot, before anyone asked: dependencies first.
    assert.deepEqual(events, ['clock built', 'greeter built']);
    assert.equal(b.kernel.resolve(greeterRef).greet(), 'hello at 42');
    assert.equal(events.filter((e) => e === 'greeter built').length, 1, 'singleton built once');
    assert.equal(seenSettings?.dataDir, b.dir);
    assert.equal(seenLogger, b.kernel.logger);
    await b.kernel.close();
    assert.ok(events.includes('greeter disposed'));
    assert.equal(b.kernel.state, 'closed');
  });

  it('REG_ERR_SERVICE_DUPLICATE names both plugins', async () => {
    const a = extension('one', (ctx) => ctx.provide(greeterRef, { factory: () => ({ greet: () => 'a' }) }));
    const c = extension('two', (ctx) => ctx.provide(greeterRef, { factory: () => ({ greet: () => 'b' }) }));
    const err = await bootError(await makeKernel({ extensions: { one: {}, two: {} } }, [a, c]));
    assert.equal(err.code, 'REG_ERR_SERVICE_DUPLICATE');
    assert.match(err.message, /test\.greeter is provided twice: by "one" and by "two"/);
  });

  it('REG_ERR_SERVICE_MISSING at boot for a dependency nobody provides', async () => {
    const p = extension('lonely', (ctx) =>
      ctx.provide(greeterRef, { deps: { clock: clockRef }, factory: ({ clock }) => ({ greet: () => String(clock.now()) }) }),
    );
    const b = await makeKernel({ extensions: { lonely: {} } }, [p]);
    const err = await bootError(b);
    assert.equal(err.code, 'REG_ERR_SERVICE_MISSING');
    assert.equal(err.plugin, 'lonely');
    assert.match(err.message, /needs test\.clock/);
    assert.equal(b.kernel.state, 'failed');
  });

  it('REG_ERR_SERVICE_MISSING when the storage plugin provides no storage', async () => {
    const empty = definePlugin({ id: 'empty', kind: 'storage', version: '0.0.1', kernel: '^0.1.0', configSchema: Type.Object({}), register() {} });
    const err = await bootError(await makeKernel({ storage: { empty: {} } }, [empty]));
    assert.equal(err.code, 'REG_ERR_SERVICE_MISSING');
    assert.match(err.message, /storage plugin "empty" did not provide core\.storage/);
  });

  it('REG_ERR_PLUGIN_REGISTER when register throws, naming the plugin and keeping the cause', async () => {
    const cause = new Error('bad wiring');
    const err = await bootError(await makeKernel({ extensions: { thrower: {} } }, [extension('thrower', () => { throw cause; })]));
    assert.equal(err.code, 'REG_ERR_PLUGIN_REGISTER');
    assert.equal(err.plugin, 'thrower');
    assert.match(err.message, /plugin "thrower" \(extensions\.thrower\) failed in register\(\): bad wiring/);
    assert.equal(err.cause, cause);
  });

  it("keeps a plugin's own KernelError, also one from another copy of @wharf/sdk", async () => {
    // A plugin installed with its own @wharf/sdk throws that copy's class: same name, other class.
    class ForeignKernelError extends Error {
      readonly code = 'REG_ERR_CONFIG_INVALID';
      constructor(message: string) {
        super(message);
        this.name = 'KernelError';
      }
    }
    const foreign = await bootError(await makeKernel({ extensions: { picky: {} } }, [extension('picky', () => { throw new ForeignKernelError('picky: bad section'); })]));
    assert.equal(foreign.code, 'REG_ERR_CONFIG_INVALID');
    assert.equal(foreign.message, 'picky: bad section');
    assert.equal(foreign.plugin, 'picky');
    // A plain error that merely calls itself KernelError without a REG_ERR_ code is still wrapped.
    const impostor = Object.assign(new Error('not really'), { name: 'KernelError', code: 'EPERM' });
    const wrapped = await bootError(await makeKernel({ extensions: { odd: {} } }, [extension('odd', () => { throw impostor; })]));
    assert.equal(wrapped.code, 'REG_ERR_PLUGIN_REGISTER');
  });

  it('REG_ERR_PLUGIN_REGISTER when register returns a promise', async () => {
    const asyncRegister = extension('eager', (async () => undefined) as unknown as WharfPlugin['register']);
    const err = await bootError(await makeKernel({ extensions: { eager: {} } }, [asyncRegister]));
    assert.equal(err.code, 'REG_ERR_PLUGIN_REGISTER');
    assert.match(err.message, /"eager".*returned a promise/);
  });

  it('a failing lifecycle.ready tap stops the boot and names the plugin', async () => {
    const p = extension('unready', (ctx) =>
      ctx.hooks.lifecycle.ready.tapPromise('x', async () => {
        throw new Error('cannot connect');
      }),
    );
    const err = await bootError(await makeKernel({ extensions: { unready: {} } }, [p]));
    assert.equal(err.plugin, 'unready');
    assert.equal(err.code, 'REG_ERR_PLUGIN_INIT');
    assert.match(err.message, /plugin "unready": lifecycle.ready failed: cannot connect/);
  });

  it('a failing factory stops the boot, naming the plugin', async () => {
    const p = extension('fragile', (ctx) =>
      ctx.provide(greeterRef, {
        factory: () => {
          throw new Error('no greeting today');
        },
      }),
    );
    const err = await bootError(await makeKernel({ extensions: { fragile: {} } }, [p]));
    assert.equal(err.plugin, 'fragile');
    assert.match(err.message, /building service test\.greeter failed: .*no greeting today/);
  });

  it('a storage root that cannot be used stops the boot with REG_ERR_STORAGE', async () => {
    const b = await makeKernel({});
    await rm(path.join(b.dir, 'uploads'), { recursive: true, force: true });
    await writeFile(path.join(b.dir, 'uploads'), 'not a directory');
    const err = await bootError(b);
    assert.equal(err.code, 'REG_ERR_STORAGE');
    assert.equal(err.plugin, 'fs');
  });

  it('passes each plugin its validated, frozen config section and a child logger', async () => {
    let seen: { config: unknown; frozen: boolean } | undefined;
    const p = definePlugin({
      id: 'configured',
      kind: 'extension',
      version: '1.0.0',
      kernel: '^0.1.0',
      configSchema: Type.Object({ greeting: Type.String({ default: 'hi' }), times: Type.Integer() }),
      register(ctx) {
        seen = { config: ctx.config, frozen: Object.isFrozen(ctx.config) };
        ctx.logger.info('registering');
      },
    });
    const b = await makeKernel({ extensions: { configured: { times: 3 } } }, [p]);
    await b.kernel.boot();
    assert.deepEqual(seen, { config: { greeting: 'hi', times: 3 }, frozen: true });
    const line = b.logs.lines().find((l) => l.msg === 'registering');
    assert.equal(line?.plugin, 'configured');
  });

  it('boot twice is refused; close is idempotent', async () => {
    const b = await makeKernel({});
    await b.kernel.boot();
    await assert.rejects(b.kernel.boot(), (err: KernelError) => err.code === 'REG_ERR_KERNEL_STATE' && /cannot boot: it is ready/.test(err.message));
    await Promise.all([b.kernel.close(), b.kernel.close()]);
    assert.equal(b.logs.lines().filter((l) => l.msg === 'kernel closed').length, 1);
  });
});
