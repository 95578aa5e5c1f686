import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { verifyPlugin } from '@wharf/sdk-testing';
import type { LogRecord } from '@wharf/sdk';
import { formatRfc5424, loggingSyslogPlugin, octetCounted } from './index.js';
import { parseRfc5424 } from './test-support.js';
import { SYSLOG_PLUGIN_VERSION } from './version.js';

describe('syslog plugin', () => {
  it('declares its version as package.json does', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(SYSLOG_PLUGIN_VERSION, pkg.version);
    assert.equal(loggingSyslogPlugin.version, pkg.version);
  });

  it('passes the production loader as a logging plugin and taps logging.sink', async () => {
    const report = await verifyPlugin(new URL('..', import.meta.url).pathname, { kind: 'logging', config: {} });
    assert.equal(report.id, 'syslog');
    assert.equal(report.kind, 'logging');
    assert.deepEqual(report.taps, ['logging.sink[syslog]']);
  });

  it('formats severities from pino levels, strips header characters, and counts octets in bytes', () => {
    const record = (level: number, channel = 'app'): LogRecord => ({ line: '{"msg":"é"}', fields: {}, channel, level, time: Date.UTC(2026, 0, 2, 3, 4, 5, 6) });
    const parse = (level: number, channel?: string) => parseRfc5424(formatRfc5424(record(level, channel), { facility: 'local0', appName: 'wh arf', hostname: 'node-1' }))!;
    assert.deepEqual([60, 50, 40, 30, 20, 10].map((l) => parse(l).severity), [2, 3, 4, 6, 7, 7]);
    const m = parse(30, 'audit');
    assert.deepEqual([m.pri, m.timestamp, m.hostname, m.appName, m.msgId, m.structuredData, m.msg], [134, '2026-01-02T03:04:05.006Z', 'node-1', 'wharf', 'audit', '-', '{"msg":"é"}']);
    assert.equal(octetCounted('é'), '2 é');
  });
});
