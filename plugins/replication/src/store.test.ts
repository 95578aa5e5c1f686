import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { coreServices, type Knex, type WharfPlugin } from '@wharf/sdk';
import { createTestKernel, type TestKernel } from '@wharf/sdk-testing';
import { forEachDatabase, type TestDatabase } from '@wharf/sdk-testing/databases';
import { replicationPlugin } from './index.js';
import { replicationMigrations } from './migrations.js';
import { replicationServiceRef } from './services.js';
import type { ReplicationStore } from './store.js';

// The replication store decodes its rows with checks: values round-trip on every database, and
// a row holding what the schema's code cannot (a hand-edited or corrupt row) fails naming its
// column instead of flowing on as a wrong type. And a database whose replication tables an older
// kernel created (its migrations 003 and 004) keeps its rows when the plugin takes them over.

const withPlugin = (db: TestDatabase, dataDir?: string) =>
  createTestKernel({ config: { database: { ...db.config } }, plugins: [replicationPlugin as WharfPlugin], ...(dataDir ? { dataDir } : {}) });

forEachDatabase((_name, create) => {
  let kernel: TestKernel;
  let knex: Knex;
  let store: ReplicationStore;
  let db: TestDatabase;
  before(async () => {
    db = await create();
    kernel = await withPlugin(db);
    knex = kernel.get(coreServices.database).knex;
    store = kernel.get(replicationServiceRef).store;
  });
  after(async () => {
    await kernel?.close();
  });

  it('round-trips endpoints, policies, executions and tasks with their types', async () => {
    const endpoint = await store.createEndpoint({ name: 'decoded', type: 'oci', url: 'http://127.0.0.1:9', username: 'u', secret: 's' });
    assert.equal(endpoint.hasSecret, true);
    assert.equal(endpoint.insecure, false);
    const policy = await store.createPolicy({
      name: 'decoded', description: '', mode: 'pull', endpointId: endpoint.id, filters: { repositories: [{ kind: 'glob', pattern: 'a/**', decision: 'include' }], tags: [] },
      destinationNamespace: undefined, flatten: 2, trigger: 'event', cron: undefined, replicateDeletion: true, override: false,
      bandwidthKbps: -1, chunkSize: 1048576, enabled: true,
    });
    assert.deepEqual([policy.mode, policy.flatten, policy.trigger, policy.replicateDeletion, policy.override, policy.chunkSize], ['pull', 2, 'event', true, false, 1048576]);
    const { id, created } = await store.createExecution(policy.id, 'event', { operation: 'copy', repository: 'a/b', reference: 'v1' }, 'event-1');
    assert.equal(created, true);
    assert.deepEqual(await store.createExecution(policy.id, 'event', { operation: 'copy', repository: 'a/b', reference: 'v1' }, 'event-1'), { id, created: false }, 'one execution per event');
    const execution = await store.getExecution(id);
    assert.deepEqual(execution?.event, { operation: 'copy', repository: 'a/b', reference: 'v1' });
    assert.equal(execution?.planned, false);
    assert.equal(execution?.tasks.total, 0);
  });

  it('refuses rows that hold what no policy or execution can be, naming the column', async () => {
    const endpoint = await store.createEndpoint({ name: 'corrupt', type: 'oci', url: 'http://127.0.0.1:9' });
    const policy = await store.createPolicy({
      name: 'corrupt', description: '', mode: 'push', endpointId: endpoint.id, filters: { repositories: [], tags: [] },
      destinationNamespace: undefined, flatten: 'none', trigger: 'manual', cron: undefined, replicateDeletion: false, override: true,
      bandwidthKbps: -1, chunkSize: undefined, enabled: true,
    });
    await knex('replication_policies').where({ id: policy.id }).update({ mode: 'sideways' });
    await assert.rejects(store.getPolicy(policy.id), /column "mode": "sideways" is not one of push, pull/);
    await knex('replication_policies').where({ id: policy.id }).update({ mode: 'push', filters: '{"repositories":[{"kind":"regex","pattern":"(","decision":"include"}],"tags":[]}' });
    await assert.rejects(store.getPolicy(policy.id), /column "filters"/);
    await knex('replication_policies').where({ id: policy.id }).update({ filters: '{"repositories":[],"tags":[]}', flatten: '7' });
    await assert.rejects(store.getPolicy(policy.id), /column "flatten"/);
    await knex('replication_policies').where({ id: policy.id }).update({ flatten: 'none' });
    const { id: execution } = await store.createExecution(policy.id, 'manual');
    await knex('replication_executions').where({ id: execution }).update({ event: '{"operation":"steal"}' });
    await assert.rejects(store.getExecution(execution), /column "event"/);
  });

  it('takes over the tables an older kernel created: policies, executions and sealed credentials stay', async () => {
    const legacy = await create();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'wharf-replication-upgrade-'));
    try {
      // The old kernel: its migrations ran (003 and 004 created and altered these tables, with the
      // DDL that is now the plugin's), and it stored an endpoint secret with the deployment's key.
      const old = await createTestKernel({ config: { database: { ...legacy.config } }, dataDir });
      const oldKnex = old.get(coreServices.database).knex;
      await replicationMigrations(old.get(coreServices.database).dialect)[0]!.up(oldKnex);
      const now = Date.now();
      const sealed = old.get(coreServices.secrets).encrypt('old-secret', 'replication.endpoint.secret');
      await oldKnex('replication_endpoints').insert({ name: 'hub', type: 'oci', url: 'https://hub.example', username: 'bob', secret: sealed, created_at: now, updated_at: now });
      const endpointId = Number(((await oldKnex('replication_endpoints').first('id')) as { id: unknown }).id);
      await oldKnex('replication_policies').insert({
        name: 'mirror', mode: 'pull', endpoint_id: endpointId, filters: '{"repositories":[],"tags":[]}', flatten: 'none', trigger: 'manual', created_at: now, updated_at: now,
      });
      const policyId = Number(((await oldKnex('replication_policies').first('id')) as { id: unknown }).id);
      await oldKnex('replication_executions').insert({ policy_id: policyId, trigger: 'manual', status: 'succeeded', status_text: 'done', planned: true, started_at: now, finished_at: now });
      assert.equal(await oldKnex.schema.hasTable('wharf_extension_replication_migrations'), false);
      await old.close();

      // The new kernel with the plugin, on the same database and key.
      const upgraded = await withPlugin(legacy, dataDir);
      try {
        const replication = upgraded.get(replicationServiceRef);
        const policy = await replication.store.getPolicyByName('mirror');
        assert.equal(policy?.mode, 'pull');
        assert.deepEqual(await replication.store.credentialsOf(endpointId), { username: 'bob', password: 'old-secret' });
        const history = await replication.store.listExecutions({ page: 1, pageSize: 10 }, policyId);
        assert.deepEqual(history.items.map((e) => [e.status, e.statusText]), [['succeeded', 'done']]);
        const newKnex = upgraded.get(coreServices.database).knex;
        const ran = (await newKnex('wharf_extension_replication_migrations').select('name')) as { name: string }[];
        assert.deepEqual(ran.map((r) => r.name), ['001_replication', '002_policy_creator']);
        // Writable as before: a second policy gets the next id.
        const second = await replication.store.createPolicy({ ...policy!, name: 'mirror-2' });
        assert.ok(second.id > policyId);
      } finally {
        await upgraded.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
