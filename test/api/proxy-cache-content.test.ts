import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDockerRegistry, type DockerRegistryHandle } from '@wharf/plugin-replication-oci/test-support/docker-registry';
import { pushImage, selectedDatabases, tinyImage, type TinyImage } from '@wharf/sdk-testing';
import { defaultPlugins } from '@wharf/server';
import { ADMIN_PASSWORD, basic, startApiRegistry, type ApiRegistry } from './support/api-kit.js';

/**
 * Cached content is ordinary content (issue 15): in the default deployment of plugins (projects,
 * audit log, quotas, GC, proxy cache), an image pulled through a proxy-cache project from a real
 * docker-registry counts against the project's quota, is in the project's audit log as a push, and GC keeps its blobs while it is referenced, then frees them once
 * the artifact is deleted (the upstream is stopped by then, so only storage can answer).
 */

const ADMIN = basic('admin', ADMIN_PASSWORD);
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const database of selectedDatabases().filter((d) => d !== 'mysql')) {
  describe(`proxy-cache content is ordinary content (${database})`, () => {
    let upstream: DockerRegistryHandle | undefined;
    let wharf: ApiRegistry;
    let image: TinyImage;
    let digest: string;

    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${wharf.url}/api/v1${path}`, {
        method,
        headers: { authorization: ADMIN, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, text, body: text ? JSON.parse(text) : undefined };
    };
    const v2 = (path: string, init: RequestInit = {}) => fetch(`${wharf.url}/v2/${path}`, { ...init, headers: { authorization: ADMIN, accept: ACCEPT } });
    const collect = async () => {
      const started = await api('POST', '/system/gc', {});
      assert.equal(started.status, 202, started.text);
      return eventually('the GC run', async () => {
        const run = await api('GET', `/system/gc/${started.body.id}`);
        return ['queued', 'running'].includes(run.body.status) ? undefined : run.body;
      });
    };

    before(async () => {
      upstream = await startDockerRegistry();
      image = tinyImage({ text: `cached as ordinary content on ${database}` });
      digest = (await pushImage(upstream.url, 'mirror/app', '1', image)).digest;
      wharf = await startApiRegistry(database, {
        plugins: defaultPlugins,
        overrides: {
          token: { enabled: false },
          rbac: { projects: {} },
          logging: { audit: { purge: { schedule: null } } },
          events: { pollIntervalMs: 50 },
          jobs: { pollIntervalMs: 50 },
          extensions: { replication: {}, repositories: {}, quotas: { reconcile: { settleSeconds: 0 } }, gc: { graceWindowMinutes: 0 }, 'proxy-cache': {} },
        },
      });
      assert.equal((await api('POST', '/projects', { name: 'hub' })).status, 201);
      assert.equal((await api('POST', '/registries', { name: 'upstream', type: 'oci', url: upstream.url })).status, 201);
      const proxied = await api('PUT', '/projects/hub/proxy-cache', { upstreams: [{ registry: 'upstream', pathPrefix: 'mirror/' }] });
      assert.equal(proxied.status, 200, proxied.text);
      // Pull the image through: manifest, config and layer.
      const manifest = await v2('hub/app/manifests/1');
      assert.equal(manifest.status, 200);
      assert.equal(manifest.headers.get('docker-content-digest'), digest);
      await manifest.arrayBuffer();
      for (const blob of [image.config.digest, image.layer.digest]) {
        const res = await v2(`hub/app/blobs/${blob}`);
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }
    });
    after(async () => {
      await wharf?.close();
      await upstream?.stop();
    });

    it("counts the cached artifact and its blobs in the project's quota", async () => {
      const blobBytes = image.config.bytes.length + image.layer.bytes.length;
      const quota = await eventually('the cached blobs in the usage', async () => {
        const res = await api('GET', '/projects/hub/quota');
        assert.equal(res.status, 200, res.text);
        return res.body.used.storage >= blobBytes && res.body.used.count === 1 ? res.body : undefined;
      });
      assert.equal(quota.used.count, 1);
    });

    it("records the cache fill in the project's audit log as a push", async () => {
      const entry = await eventually('the audit entry', async () => {
        const res = await api('GET', '/projects/hub/audit-logs?operation=push');
        assert.equal(res.status, 200, res.text);
        const items = (Array.isArray(res.body) ? res.body : res.body.items) as { resource: string; operation: string }[];
        return items.find((e) => e.resource === `hub/app@${digest}`);
      });
      assert.equal(entry.operation, 'push');
    });

    it('keeps referenced cached blobs through GC and frees them once the artifact is deleted', async () => {
      await upstream!.stop();
      upstream = undefined;
      const kept = await collect();
      assert.equal(kept.status, 'succeeded', JSON.stringify(kept));
      const layer = await v2(`hub/app/blobs/${image.layer.digest}`);
      assert.equal(layer.status, 200, 'served from storage with the upstream gone');
      assert.deepEqual(Buffer.from(await layer.arrayBuffer()), image.layer.bytes);

      const deleted = await api('DELETE', `/projects/hub/repositories/app/artifacts/${digest}`);
      assert.equal(deleted.status, 204, deleted.text);
      const freed = await collect();
      assert.equal(freed.status, 'succeeded', JSON.stringify(freed));
      assert.ok(freed.blobsDeleted >= 2 && freed.bytesFreed >= image.layer.bytes.length, `GC freed the cached blobs: ${JSON.stringify(freed)}`);
      const gone = await v2(`hub/app/blobs/${image.layer.digest}`);
      assert.notEqual(gone.status, 200, 'the layer is gone once GC freed it');
      assert.ok(gone.status < 500 || gone.status === 502 || gone.status === 503, `a clear error, not a crash: ${gone.status}`);
    });
  });
}
