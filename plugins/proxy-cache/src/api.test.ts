import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { forEachDatabase, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { admin, assertApiError, basicAuth, bootProxyRegistry, callApi } from './test-support.js';

/**
 * The proxy-cache operations over real HTTP on each test database (the settings table's upsert): allowed for system administrators only
 * (a project admin, a plain user and anonymous callers are refused), registry endpoints that must
 * exist, projects that must exist, and the stored settings read back.
 */

forEachDatabase((_name, create) => describe('proxy-cache API', () => {
  let db: TestDatabase;
  let registry: TestRegistry;
  const alice = basicAuth('alice', 'Alice-Pass-1');
  const api = (method: string, path: string, auth?: string, body?: unknown) => callApi(registry.url, method, `/api/v1${path}`, { auth, ...(body === undefined ? {} : { body }) });

  before(async () => {
    db = await create();
    registry = await bootProxyRegistry(db);
    assert.equal((await api('POST', '/users', admin, { username: 'alice', password: 'Alice-Pass-1' })).status, 201);
    assert.equal((await api('POST', '/projects', alice, { name: 'hub' })).status, 201);
    assert.equal((await api('POST', '/registries', admin, { name: 'dockerhub', type: 'oci', url: 'https://registry-1.docker.io' })).status, 201);
    assert.equal((await api('POST', '/registries', admin, { name: 'ghcr', type: 'oci', url: 'https://ghcr.io' })).status, 201);
  });
  after(async () => {
    await registry?.close();
  });

  it('answers 404 for a project that is not a proxy cache', async () => {
    assertApiError(await api('GET', '/projects/hub/proxy-cache', admin), 404, 'NOT_FOUND');
  });

  it('refuses everyone but system administrators, the project admin too', async () => {
    const body = { upstreams: [{ registry: 'dockerhub' }] };
    assertApiError(await api('PUT', '/projects/hub/proxy-cache', alice, body), 403, 'FORBIDDEN');
    assertApiError(await api('GET', '/projects/hub/proxy-cache', alice), 403, 'FORBIDDEN');
    assertApiError(await api('DELETE', '/projects/hub/proxy-cache', alice), 403, 'FORBIDDEN');
    assertApiError(await api('PUT', '/projects/hub/proxy-cache', undefined, body), 401, 'UNAUTHORIZED');
  });

  it('stores the upstreams in order, with path prefixes ending in a slash', async () => {
    const res = await api('PUT', '/projects/hub/proxy-cache', admin, { upstreams: [{ registry: 'dockerhub', pathPrefix: 'library' }, { registry: 'ghcr', pathPrefix: 'acme/' }] });
    assert.equal(res.status, 200);
    assert.equal(res.body.project, 'hub');
    assert.deepEqual(res.body.upstreams, [{ registry: 'dockerhub', pathPrefix: 'library/' }, { registry: 'ghcr', pathPrefix: 'acme/' }]);
    const read = await api('GET', '/projects/hub/proxy-cache', admin);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body.upstreams, res.body.upstreams);
    const changed = await api('PUT', '/projects/hub/proxy-cache', admin, { upstreams: [{ registry: 'ghcr' }] });
    assert.deepEqual(changed.body.upstreams, [{ registry: 'ghcr', pathPrefix: '' }]);
  });

  it('refuses an unknown registry endpoint, an unknown project and bad input', async () => {
    const unknown = await api('PUT', '/projects/hub/proxy-cache', admin, { upstreams: [{ registry: 'nope' }] });
    assertApiError(unknown, 400, 'BAD_REQUEST');
    assert.match(unknown.body.errors[0].message, /registry endpoint nope not found/);
    assertApiError(await api('PUT', '/projects/ghost/proxy-cache', admin, { upstreams: [{ registry: 'ghcr' }] }), 404, 'NOT_FOUND');
    assertApiError(await api('PUT', '/projects/hub/proxy-cache', admin, { upstreams: [] }), 400, 'BAD_REQUEST');
    assertApiError(await api('PUT', '/projects/hub/proxy-cache', admin, { upstreams: [{ registry: 'ghcr', pathPrefix: '../x' }] }), 400, 'BAD_REQUEST');
  });

  it('refuses to delete a registry endpoint a proxy-cache project pulls through, until the project stops', async () => {
    const quay = await api('POST', '/registries', admin, { name: 'quay', type: 'oci', url: 'https://quay.io' });
    assert.equal(quay.status, 201);
    assert.equal((await api('POST', '/projects', admin, { name: 'mirror' })).status, 201);
    assert.equal((await api('PUT', '/projects/mirror/proxy-cache', admin, { upstreams: [{ registry: 'ghcr' }, { registry: 'quay' }] })).status, 200);
    const refused = await api('DELETE', `/registries/${quay.body.id}`, admin);
    assertApiError(refused, 412, 'PRECONDITION_FAILED');
    assert.match(refused.body.errors[0].message, /is used by proxy-cache project mirror/);
    assert.equal((await api('GET', `/registries/${quay.body.id}`, admin)).status, 200, 'still there');
    assert.equal((await api('DELETE', '/projects/mirror/proxy-cache', admin)).status, 204);
    assert.equal((await api('DELETE', `/registries/${quay.body.id}`, admin)).status, 204);
    assertApiError(await api('GET', `/registries/${quay.body.id}`, admin), 404, 'NOT_FOUND');
  });

  it('deletes the settings: 204, then 404', async () => {
    const res = await api('DELETE', '/projects/hub/proxy-cache', admin);
    assert.equal(res.status, 204);
    assertApiError(await api('GET', '/projects/hub/proxy-cache', admin), 404, 'NOT_FOUND');
    assertApiError(await api('DELETE', '/projects/hub/proxy-cache', admin), 404, 'NOT_FOUND');
  });

  it('forgets the settings of a deleted project, so a new project of that name is an ordinary one', async () => {
    assert.equal((await api('POST', '/projects', admin, { name: 'gone' })).status, 201);
    assert.equal((await api('PUT', '/projects/gone/proxy-cache', admin, { upstreams: [{ registry: 'ghcr' }] })).status, 200);
    assert.equal((await api('DELETE', '/projects/gone', admin)).status, 204);
    assert.equal((await api('POST', '/projects', admin, { name: 'gone' })).status, 201);
    for (let i = 0; ; i++) {
      const res = await api('GET', '/projects/gone/proxy-cache', admin);
      if (res.status === 404) break;
      assert.ok(i < 100, 'the settings were not removed');
      await new Promise((r) => setTimeout(r, 50));
    }
  });
}));
