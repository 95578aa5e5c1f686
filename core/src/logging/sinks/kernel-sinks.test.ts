import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { coreServices, definePlugin, Type, type LogRecord } from '@wharf/sdk';
import { loadConfig } from '../../config/load-config.js';
import { createKernel, type Kernel } from '../../kernel/kernel.js';
import { baseConfig, captureLogs, tempDir } from '../../kernel/test-support.js';

/** A plugin sink type in a real kernel: loaded by naming it in log.sinks, fed from the first line. */

const received: LogRecord[] = [];
const memorySink = definePlugin({
  id: 'memory',
  kind: 'logging',
  version: '1.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    ctx.hooks.logging.sink.for('memory').tap(ctx.id, (entry) => ({ write: (records) => void received.push(...records.map((r) => ({ ...r, fields: { ...r.fields, sinkLabel: entry.label } }))) }));
  },
});

describe('plugin sinks in a kernel', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('a sink type named in log.sinks loads its logging plugin, which the config did not list', async () => {
    const tmp = await tempDir('wharf-kernel-sinks-');
    cleanups.push(tmp.cleanup);
    const loaded = await loadConfig({
      config: baseConfig(tmp.dir, { log: { level: 'info', format: 'json', sinks: [{ type: 'stdout' }, { type: 'memory', label: 'm1', channels: ['app'] }] } }),
      env: {},
      plugins: [memorySink],
    });
    assert.deepEqual(loaded.plugins.filter((p) => p.section === 'logging').map((p) => p.key), ['memory']);
    assert.deepEqual(loaded.config.log.sinks.map((s) => [s.type, s.bufferSize, s.batchSize]), [['stdout', 10000, 100], ['memory', 10000, 100]]);

    const stdout = captureLogs();
    const kernel: Kernel = createKernel(loaded, { logDestination: stdout.stream });
    cleanups.push(() => kernel.close());
    await kernel.boot();
    // Lines from before the sink existed (plugin registration) waited in its queue.
    const messages = received.map((r) => r.fields.msg);
    assert.ok(messages.includes('plugin registered'), JSON.stringify(messages));
    assert.ok(messages.includes('kernel ready'));
    assert.equal(received[0]?.fields.sinkLabel, 'm1', 'the tap got its entry, type-specific keys included');
    const stats = kernel.resolve(coreServices.logSinks).stats();
    assert.deepEqual(stats.map((s) => [s.path, s.type, s.dropped]), [['log.sinks[0]', 'stdout', 0], ['log.sinks[1]', 'memory', 0]]);
    assert.equal(stats[1]?.written, received.length);
  });

  it('a sink type nobody provides fails the config load, naming the key', async () => {
    const tmp = await tempDir('wharf-kernel-sinks-');
    cleanups.push(tmp.cleanup);
    await assert.rejects(
      loadConfig({ config: baseConfig(tmp.dir, { log: { sinks: [{ type: 'nowhere' }] } }), env: {}, cwd: tmp.dir }),
      (err: Error & { code?: string }) => err.code === 'REG_ERR_PLUGIN_NOT_FOUND' && /logging\.nowhere/.test(err.message),
    );
  });
});
