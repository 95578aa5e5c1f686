import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogRecord, LogSink } from '@wharf/sdk';
import { captureLogs } from '../../kernel/test-support.js';
import { createRootLogger } from '../logger.js';

/** Channels, levels, late plugin sinks and the bounded queue of the sink router. */

const common = { bufferSize: 10_000, batchSize: 100 };

function collector(): LogSink & { got: LogRecord[] } {
  const got: LogRecord[] = [];
  return { got, write: (records) => void got.push(...records) };
}

describe('log router', () => {
  it('gives each sink the channels and levels it asks for; stdout takes every channel by default', () => {
    const stdout = captureLogs();
    const { logger, router } = createRootLogger({
      level: 'debug',
      format: 'json',
      destination: stdout.stream,
      sinks: [
        { type: 'stdout', ...common },
        { type: 'audit-only', channels: ['audit'], ...common },
        { type: 'warnings', level: 'warn', ...common },
      ],
    });
    const audit = collector();
    const warnings = collector();
    router.attachPluginSinks((type) => (type === 'audit-only' ? audit : warnings));
    logger.child({ channel: 'audit' }).info({ audit: { action: 'delete' } }, 'audit');
    logger.debug('chatty');
    logger.warn('careful');
    assert.deepEqual(stdout.lines().map((l) => l.msg), ['audit', 'chatty', 'careful']);
    assert.deepEqual(audit.got.map((r) => [r.channel, r.fields.msg]), [['audit', 'audit']]);
    assert.deepEqual(warnings.got.map((r) => [r.channel, r.fields.msg, r.level]), [['app', 'careful', 40]]);
  });

  it('keeps what is logged before a plugin sink exists, and refuses a type nobody provides', () => {
    const { logger, router } = createRootLogger({ level: 'info', format: 'json', sinks: [{ type: 'late', ...common }] });
    logger.info('during boot');
    const late = collector();
    router.attachPluginSinks(() => late);
    logger.info('after');
    assert.deepEqual(late.got.map((r) => r.fields.msg), ['during boot', 'after']);

    const other = createRootLogger({ level: 'info', format: 'json', sinks: [{ type: 'loki', ...common }] });
    assert.throws(() => other.router.attachPluginSinks(() => undefined), /log\.sinks\[0\]\.type: no sink type "loki"/);
  });

  it('a slow sink holds at most bufferSize records, drops and counts the rest, and never delays the caller', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const written: LogRecord[] = [];
    const slow: LogSink = {
      async write(records) {
        await gate;
        written.push(...records);
      },
    };
    const { logger, router } = createRootLogger({ level: 'info', format: 'json', sinks: [{ type: 'slow', bufferSize: 3, batchSize: 2 }] });
    router.attachPluginSinks(() => slow);
    const t0 = performance.now();
    for (let i = 0; i < 10; i += 1) logger.info({ i }, 'n');
    assert.ok(performance.now() - t0 < 100, 'logging did not wait for the sink');
    // The first record is in the pending write, three wait, six are dropped.
    assert.deepEqual(router.stats(), [{ path: 'log.sinks[0]', type: 'slow', written: 0, dropped: 6, queued: 3 }]);
    assert.equal(router.getDroppedCount(), 6);
    release();
    await router.drained();
    assert.deepEqual(written.map((r) => r.fields.i), [0, 1, 2, 3]);
    assert.equal(router.stats()[0]?.written, 4);
  });

  it('counts a failed write as dropped and logs one warning on the other sinks', async () => {
    const stdout = captureLogs();
    const { logger, router } = createRootLogger({
      level: 'info',
      format: 'json',
      destination: stdout.stream,
      sinks: [{ type: 'stdout', ...common }, { type: 'broken', ...common }],
    });
    router.attachPluginSinks(() => ({ write: () => Promise.reject(new Error('receiver gone')) }));
    logger.info('one');
    await router.drained();
    logger.info('two');
    await router.drained();
    await new Promise((r) => setTimeout(r, 20));
    // 'one', 'two', and the warning itself, which the broken sink drops too.
    assert.equal(router.getDroppedCount(), 3);
    const warnings = stdout.lines().filter((l) => l.msg === 'log sink dropping records');
    assert.equal(warnings.length, 1, 'one warning per window, not one per record');
    assert.equal(warnings[0]?.sink, 'log.sinks[1]');
    assert.equal(warnings[0]?.reason, 'receiver gone');
  });
});
