import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { WharfPlugin } from '@wharf/sdk';
import { assertApiError, basicAuth, callApi, forEachDatabase, startTestRegistry, type TestRegistry } from '@wharf/sdk-testing';
import { replicationPlugin } from './index.js';
import { replicationServiceRef } from './services.js';

/**
 * `sort=` on the replication lists (registries, policies, executions) over real HTTP on each
 * database: the database orders the whole list, so page 2 continues page 1; ties break on id;
 * an unknown field is a 400 naming the allowed ones. Rows come from the store (no remote
 * registry is needed to list them).
 */

const ADMIN_PASSWORD = 'Admin-Passw0rd';
const admin = basicAuth('admin', ADMIN_PASSWORD);

forEachDatabase((_name, create) => {
  let registry: TestRegistry;
  let lastExecution = 0;
  const get = async (path: string) => {
    const res = await callApi(registry.url, 'GET', `/api/v1${path}`, { auth: admin });
    assert.equal(res.status, 200, res.text);
    return res.body as { id: number; name: string; policyId: number; status: string }[];
  };

  before(async () => {
    const db = await create();
    const saved = process.env.WHARF_ADMIN_PASSWORD;
    process.env.WHARF_ADMIN_PASSWORD = ADMIN_PASSWORD;
    try {
      registry = await startTestRegistry({
        config: { database: { ...db.config }, auth: [{ db: {} }], rbac: { projects: {} } },
        plugins: [replicationPlugin as WharfPlugin],
      });
    } finally {
      if (saved === undefined) delete process.env.WHARF_ADMIN_PASSWORD;
      else process.env.WHARF_ADMIN_PASSWORD = saved;
    }
    const { store } = registry.get(replicationServiceRef);
    // Created out of name order, so id order and name order differ.
    for (const name of ['mirror-c', 'mirror-a', 'mirror-e', 'mirror-b', 'mirror-d']) {
      const endpoint = await store.createEndpoint({ name, type: 'oci', url: `http://127.0.0.1:9/${name}` });
      const policy = await store.createPolicy({
        name: `sync-${name.slice(-1)}`, description: '', mode: 'push', endpointId: endpoint.id, filters: { repositories: [], tags: [] },
        destinationNamespace: undefined, flatten: 'none', trigger: 'manual', cron: undefined, replicateDeletion: false, override: true,
        bandwidthKbps: -1, chunkSize: undefined, enabled: true,
      });
      const { id } = await store.createExecution(policy.id, 'manual');
      if (name === 'mirror-d') {
        // Planned out of name order.
        const task = (repo: string) => ({ operation: 'copy' as const, sourceRepository: repo, sourceReference: 'v1', destinationRepository: `dst/${repo}`, destinationReference: 'v1' });
        await store.addTasks(id, ['lib/b', 'lib/c', 'lib/a'].map(task));
        lastExecution = id;
      }
    }
  });
  after(() => registry?.close());

  it('sorts registries by name across pages, both ways', async () => {
    assert.deepEqual((await get('/registries?sort=name&page_size=3')).map((e) => e.name), ['mirror-a', 'mirror-b', 'mirror-c']);
    assert.deepEqual((await get('/registries?sort=name&page_size=3&page=2')).map((e) => e.name), ['mirror-d', 'mirror-e']);
    assert.deepEqual((await get('/registries?sort=-name&page_size=2')).map((e) => e.name), ['mirror-e', 'mirror-d']);
    assert.deepEqual((await get('/registries')).map((e) => e.name), ['mirror-c', 'mirror-a', 'mirror-e', 'mirror-b', 'mirror-d'], 'default: by id');
    assertApiError(await callApi(registry.url, 'GET', '/api/v1/registries?sort=secret', { auth: admin }), 400, 'BAD_REQUEST', /unknown field "secret" \(this operation sorts by id, name, type, url, createdAt, updatedAt/);
  });

  it('sorts policies by name and executions by policy, newest first by default', async () => {
    assert.deepEqual((await get('/replication/policies?sort=-name&page_size=4')).map((p) => p.name), ['sync-e', 'sync-d', 'sync-c', 'sync-b']);
    assert.deepEqual((await get('/replication/policies?sort=-name&page_size=4&page=2')).map((p) => p.name), ['sync-a']);
    assertApiError(await callApi(registry.url, 'GET', '/api/v1/replication/policies?sort=endpoint', { auth: admin }), 400, 'BAD_REQUEST', /sorts by id, name, mode, trigger, enabled, createdAt, updatedAt/);

    const newest = (await get('/replication/executions')).map((e) => e.id);
    assert.deepEqual(newest, [...newest].sort((a, b) => b - a));
    assert.deepEqual((await get('/replication/executions?sort=id&page_size=2&page=2')).map((e) => e.id), [...newest].reverse().slice(2, 4));
    const byPolicy = (await get('/replication/executions?sort=-policyId')).map((e) => e.policyId);
    assert.deepEqual(byPolicy, [...byPolicy].sort((a, b) => b - a));
    assertApiError(await callApi(registry.url, 'GET', '/api/v1/replication/executions?sort=-bytes', { auth: admin }), 400, 'BAD_REQUEST', /sorts by id, policyId, trigger, status, startedAt/);
  });

  it('sorts an execution\'s tasks by source across pages', async () => {
    const sources = async (query: string) => ((await get(`/replication/executions/${lastExecution}/tasks?${query}`)) as unknown as { source: string }[]).map((k) => k.source);
    assert.deepEqual(await sources(''), ['lib/b:v1', 'lib/c:v1', 'lib/a:v1'], 'default: planned order');
    assert.deepEqual(await sources('sort=-source&page_size=2'), ['lib/c:v1', 'lib/b:v1']);
    assert.deepEqual(await sources('sort=-source&page_size=2&page=2'), ['lib/a:v1']);
    assertApiError(await callApi(registry.url, 'GET', `/api/v1/replication/executions/${lastExecution}/tasks?sort=log`, { auth: admin }), 400, 'BAD_REQUEST', /sorts by id, source, destination, status, bytes, attempts/);
  });
});
