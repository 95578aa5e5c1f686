import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startDockerRegistry, type DockerRegistryHandle } from '@wharf/plugin-replication-oci/test-support/docker-registry';
import { basicAuth, callApi, createTestDatabase, pushImage, tinyImage, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { admin, bootProxyRegistry } from './test-support.js';

/**
 * Two upstreams tried in order, each with its own path prefix: a docker-registry with htpasswd
 * (credentials sealed in the endpoint) holding a multi-arch OCI index, and an open one. The index
 * is cached as is; its children are fetched when pulled by digest, or when content negotiation
 * picks one for a client that does not accept indexes.
 */

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describe('proxy-cache with two upstreams and a multi-arch index', () => {
  let secured: DockerRegistryHandle;
  let open: DockerRegistryHandle;
  let db: TestDatabase;
  let wharf: TestRegistry;
  const amd = tinyImage({ text: 'amd64 layer' });
  const arm = tinyImage({ text: 'arm64 layer' });
  const single = tinyImage({ text: 'only on the second upstream' });
  let index: Buffer;
  let indexDigest: string;

  const v2 = (path: string, accept = `${OCI_INDEX}, ${OCI_MANIFEST}`) => fetch(`${wharf.url}/v2/${path}`, { headers: { authorization: admin, accept } });

  before(async () => {
    secured = await startDockerRegistry({ users: [{ username: 'mirror', password: 'mirror-secret' }] });
    open = await startDockerRegistry();
    const auth = { authorization: basicAuth('mirror', 'mirror-secret') };
    for (const image of [amd, arm]) await pushImage(secured.url, 'team/multi', image.manifest.digest, image, auth);
    index = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: amd.manifest.digest, size: amd.manifest.size, platform: { architecture: 'amd64', os: 'linux' } },
        { mediaType: OCI_MANIFEST, digest: arm.manifest.digest, size: arm.manifest.size, platform: { architecture: 'arm64', os: 'linux' } },
      ],
    }));
    indexDigest = `sha256:${createHash('sha256').update(index).digest('hex')}`;
    const put = await fetch(`${secured.url}/v2/team/multi/manifests/1`, { method: 'PUT', headers: { ...auth, 'content-type': OCI_INDEX }, body: index });
    assert.equal(put.status, 201, await put.text());
    await pushImage(open.url, 'other/app', '1', single);

    db = await createTestDatabase('sqlite');
    wharf = await bootProxyRegistry(db);
    const api = (method: string, path: string, body?: unknown) => callApi(wharf.url, method, `/api/v1${path}`, { auth: admin, body });
    assert.equal((await api('POST', '/projects', { name: 'mix' })).status, 201);
    assert.equal((await api('POST', '/registries', { name: 'secured', type: 'oci', url: secured.url, username: 'mirror', secret: 'mirror-secret' })).status, 201);
    assert.equal((await api('POST', '/registries', { name: 'open', type: 'oci', url: open.url })).status, 201);
    const proxied = await api('PUT', '/projects/mix/proxy-cache', { upstreams: [{ registry: 'secured', pathPrefix: 'team/' }, { registry: 'open', pathPrefix: 'other/' }] });
    assert.equal(proxied.status, 200, proxied.text);
  });
  after(async () => {
    await wharf?.close();
    await db?.drop();
    await secured?.stop();
    await open?.stop();
  });

  it('caches the index as is, with its digest, from the first upstream (with credentials)', async () => {
    const res = await v2('mix/multi/manifests/1');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), OCI_INDEX);
    assert.equal(res.headers.get('docker-content-digest'), indexDigest);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(index));
  });

  it('fetches a child manifest and its layer when pulled by digest', async () => {
    const child = await v2(`mix/multi/manifests/${arm.manifest.digest}`);
    assert.equal(child.status, 200);
    assert.ok(Buffer.from(await child.arrayBuffer()).equals(arm.manifest.bytes));
    const layer = await v2(`mix/multi/blobs/${arm.layer.digest}`);
    assert.equal(layer.status, 200);
    assert.ok(Buffer.from(await layer.arrayBuffer()).equals(arm.layer.bytes));
  });

  it("fetches the child content negotiation picks for a client that takes no index", async () => {
    const res = await v2('mix/multi/manifests/1', OCI_MANIFEST);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-content-digest'), amd.manifest.digest);
  });

  it('falls through to the second upstream when the first has no such repository', async () => {
    const res = await v2('mix/app/manifests/1');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-content-digest'), single.manifest.digest);
    const layer = await v2(`mix/app/blobs/${single.layer.digest}`);
    assert.ok(Buffer.from(await layer.arrayBuffer()).equals(single.layer.bytes));
  });
});
