import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { coreServices } from '@wharf/sdk';
import { captureLogs, pullManifest, pushImage, startTestRegistry, tinyImage, type TestRegistry } from '@wharf/sdk-testing';
import { auditPlugin } from './index.js';
import { AUDIT_TABLES } from './index.js';
import { until } from './test-support.js';

/**
 * Forwarding (the seam the log sinks use): each entry is a log record bound with
 * `channel: 'audit'`, message `audit`, the entry under `audit`, at info level even when the
 * kernel logs at warn; with `store: false` nothing reaches the table.
 */

describe('forwarding with store: false', () => {
  const logs = captureLogs();
  let registry: TestRegistry;

  before(async () => {
    registry = await startTestRegistry({
      config: { log: { level: 'warn', format: 'json' }, events: { pollIntervalMs: 50 }, logging: { audit: { forward: true, store: false } } },
      plugins: [auditPlugin],
      logDestination: logs.stream,
    });
  });
  after(() => registry?.close());

  it('writes each entry as an audit record and stores none', async () => {
    await pushImage(registry.url, 'lib/app', 'v1', tinyImage());
    await pullManifest(registry.url, 'lib/app', 'v1');
    const audit = () => logs.records().filter((r) => r['channel'] === 'audit');
    const records = await until('three audit records', async () => (audit().length >= 3 ? audit() : undefined));
    for (const r of records) {
      assert.equal(r['msg'], 'audit');
      assert.equal(r['level'], 30, 'info, although the kernel logs at warn');
      assert.equal(r['plugin'], 'audit');
    }
    const entries = records.map((r) => r['audit'] as Record<string, unknown>);
    assert.deepEqual(entries.map((e) => `${e['resourceType']}.${e['operation']}`).sort(), ['artifact.pull', 'artifact.push', 'tag.create']);
    const push = entries.find((e) => e['operation'] === 'push')!;
    assert.equal(push['project'], 'lib');
    assert.equal(push['actorKind'], 'anonymous');
    assert.match(String(push['resource']), /^lib\/app@sha256:/);
    assert.equal(push['id'], undefined, 'not stored, so no id');
    assert.ok(push['requestId'] && push['eventId'] && push['time']);
    const [row] = (await registry.get(coreServices.database).knex(AUDIT_TABLES.entries).count({ n: '*' })) as Array<{ n: number | string }>;
    assert.equal(Number(row?.n), 0);
  });
});
