import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import type { Knex } from 'knex';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { openStore } from '../metadata/test-support.js';
import type { KnexMetadataStore } from '../metadata/knex-metadata-store.js';
import type { MetadataStore } from '../metadata/types.js';
import { createSecretBox } from '../secrets/secret-box.js';
import { ReplicationStore } from './store.js';

// The replication store decodes its rows with checks: values round-trip on every database, and
// a row holding what the schema's code cannot (a hand-edited or corrupt row) fails naming its
// column instead of flowing on as a wrong type.

forEachDatabase((_name, create) => {
  let metadata: MetadataStore;
  let knex: Knex;
  let store: ReplicationStore;
  before(async () => {
    metadata = openStore((await create()).config);
    await metadata.migrate();
    knex = (metadata as KnexMetadataStore).knex;
    store = new ReplicationStore(knex, createSecretBox(randomBytes(32)));
  });
  after(() => metadata.close());

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
});
