import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { coreServices, managementEvent } from '@wharf/sdk';
import { createTestKernel, forEachDatabase, type TestDatabase } from '@wharf/sdk-testing';
import { auditPlugin } from './index.js';
import { auditServiceRef } from './service.js';
import { until } from './test-support.js';

/**
 * A changed configuration file shows in the audit log, on each database: booted again with the
 * same config, nothing is recorded; with a changed key and a new secret key, one entry by
 * `system` names the key paths, and neither the entry nor the stored fingerprint holds a value.
 */

const SECRET = 'S3cret-Redis-Passw0rd';

forEachDatabase((name, create) => {
  let db: TestDatabase;
  let dataDir: string;

  before(async () => {
    db = await create();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'wharf-config-changes-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  const boot = (jobs: Record<string, unknown>) =>
    createTestKernel({
      dataDir,
      config: { database: { ...db.config }, events: { pollIntervalMs: 50 }, jobs: { pollIntervalMs: 50, ...jobs }, logging: { audit: { purge: { schedule: null } } } },
      plugins: [auditPlugin],
    });
  const configEntries = async (kernel: Awaited<ReturnType<typeof boot>>) =>
    (await kernel.get(auditServiceRef).store.page({ resourceType: 'configuration' }, 100)).items;

  it(`${name}: the same config records nothing; a changed one records the key paths, never a value`, async () => {
    const first = await boot({});
    await first.close();
    const same = await boot({});
    // The audit consumer has caught up with everything recorded at boot once a later event is in.
    await same.get(coreServices.events).publish({ type: managementEvent('probe', 'created'), partition: 'test', data: { id: 'p' } });
    await until('the probe entry', async () => ((await same.get(auditServiceRef).store.page({ resourceType: 'probe' }, 1)).items.length > 0 ? true : undefined));
    assert.deepEqual(await configEntries(same), [], 'unchanged: nothing recorded');
    await same.close();

    const changed = await boot({ history: { keep: 5 }, redis: { url: `redis://:${SECRET}@127.0.0.1:6379/0` } });
    try {
      const [entry] = await until('the configuration entry', async () => {
        const items = await configEntries(changed);
        return items.length > 0 ? items : undefined;
      });
      assert.equal(entry!.operation, 'update');
      assert.equal(entry!.actor, 'system');
      assert.equal(entry!.actorKind, 'system');
      assert.equal(entry!.result, 'success');
      assert.deepEqual(entry!.detail.changed, ['jobs.history.keep']);
      assert.deepEqual(entry!.detail.added, ['jobs.redis.url']);
      assert.deepEqual(entry!.detail.removed, []);
      assert.doesNotMatch(JSON.stringify(entry), new RegExp(SECRET));
      const knex = changed.get(coreServices.database).knex;
      const row = (await knex('config_fingerprints').first()) as { hashes: string; salt: string };
      assert.doesNotMatch(row.hashes, new RegExp(SECRET));
      assert.ok(!row.hashes.includes('"5"') && !row.hashes.includes(':5'), 'hashes, not values');
      assert.ok(JSON.parse(row.hashes)['jobs.redis.url'], 'the secret path is known by its hash');
    } finally {
      await changed.close();
    }
  });
});
