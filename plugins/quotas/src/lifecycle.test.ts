import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { coreServices, definePlugin, RegistryError, Type, type ContentService } from '@wharf/sdk';
import { forEachDatabase, pushImage, streamOf, tinyImage, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { admin, bootRegistry, call, eventually, sizedBlob, uploadBlob } from './test-support.js';
import { quotasServiceRef } from './services.js';

/**
 * What happens around the gates, on every database: content that existed before the plugin's
 * first boot is counted (backfill); a charge whose commit does not complete (a later gate
 * refused) is given back through `registry.blobCommitFailed`; plugins writing through
 * `coreServices.content` meet the same quota as clients.
 */

let content: ContentService | undefined;
/** After the quotas plugin: refuses one digest, so the quota's charge must be released. */
const refuser = definePlugin({
  id: 'refuser',
  kind: 'extension',
  version: '0.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    ctx.hooks.registry.beforeBlobCommit.tapPromise(ctx.id, async ({ digest }) => {
      if (digest === refused.digest) throw new RegistryError('DENIED', 'refused by the test gate');
    });
    ctx.registerInit({
      deps: { content: coreServices.content },
      async init(deps) {
        content = deps.content;
      },
    });
  },
});
const refused = sizedBlob('z', 1500);

forEachDatabase((_name, create) => {
  let db: TestDatabase;
  let registry: TestRegistry;
  let dataDir: string;
  const api = (method: string, path: string, body?: unknown) => call(registry.url, method, `/api/v1${path}`, { auth: admin, ...(body === undefined ? {} : { body }) });
  const image = tinyImage({ text: 'before quotas\n' });

  before(async () => {
    db = await create();
    dataDir = await mkdtemp(join(tmpdir(), 'quotas-lifecycle-'));
    // First boot without the plugin: content it never saw.
    const plain = await bootRegistry(db, { withQuotas: false, dataDir });
    assert.equal((await call(plain.url, 'POST', '/api/v1/projects', { auth: admin, body: { name: 'old' } })).status, 201);
    await pushImage(plain.url, 'old/app', 'v1', image, { authorization: admin });
    await pushImage(plain.url, 'old/app', 'v2', image, { authorization: admin });
    await plain.close();
    registry = await bootRegistry(db, { dataDir, plugins: [refuser] });
  });
  after(async () => {
    await registry?.close();
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  describe('around the gates', () => {
    it('counts what the registry held before the plugin first booted', async () => {
      const bytes = image.config.size + image.layers[0]!.size + image.manifest.size;
      const used = await eventually('the backfill', async () => {
        const res = await api('GET', '/projects/old/quota');
        return res.body?.used.count === 1 ? res.body.used : undefined;
      });
      assert.deepEqual(used, { storage: bytes, count: 1 });
    });

    it('gives a charge back when a later gate refuses the blob', async () => {
      const before = (await api('GET', '/projects/old/quota')).body.used.storage as number;
      const res = await uploadBlob(registry.url, 'old/app', refused, admin);
      assert.equal(res.status, 403);
      assert.equal(res.body.errors[0].message, 'refused by the test gate');
      assert.equal((await api('GET', '/projects/old/quota')).body.used.storage, before);
      assert.equal((await uploadBlob(registry.url, 'old/app', sizedBlob('k', 700), admin)).status, 201);
      assert.equal((await api('GET', '/projects/old/quota')).body.used.storage, before + 700);
    });

    it('holds plugins writing through coreServices.content to the same quota', async () => {
      assert.ok(content);
      const used = (await api('GET', '/projects/old/quota')).body.used.storage as number;
      assert.equal((await api('PUT', '/projects/old/quota', { hard: { storage: used + 1000 } })).status, 200);
      const big = sizedBlob('c', 1200);
      await assert.rejects(content.putBlob('old/app', { digest: big.digest as `sha256:${string}`, size: big.size, data: streamOf(big.bytes) }), (err: RegistryError) => {
        assert.equal(err.code, 'DENIED');
        assert.match(err.message, /^project old storage quota .* exceeded: in use .*, this blob 1\.17 KiB$/);
        return true;
      });
      const small = sizedBlob('d', 900);
      assert.deepEqual(await content.putBlob('old/app', { digest: small.digest as `sha256:${string}`, size: small.size, data: streamOf(small.bytes) }), { size: 900 });
      // A mount into another project brings the blob there: that project's quota decides.
      assert.equal((await api('POST', '/projects', { name: 'tiny' })).status, 201);
      assert.equal((await api('PUT', '/projects/tiny/quota', { hard: { storage: 100 } })).status, 200);
      await assert.rejects(content.mountBlob('tiny/app', small.digest as `sha256:${string}`, 'old/app'), { code: 'DENIED' });
      assert.equal((await api('PUT', '/projects/tiny/quota', { hard: { storage: -1 } })).status, 200);
      assert.equal(await content.mountBlob('tiny/app', small.digest as `sha256:${string}`, 'old/app'), true);
      assert.equal((await api('GET', '/projects/tiny/quota')).body.used.storage, 900);
    });

    it('recomputes only the referenced blobs the project holds (a pull-through cache stores manifests before their layers)', async () => {
      assert.ok(content);
      assert.equal((await api('POST', '/projects', { name: 'lazy' })).status, 201);
      const lazy = tinyImage({ text: 'layer still upstream\n' });
      const blobOf = (b: { digest: string; size: number; bytes: Buffer }) => ({ digest: b.digest as `sha256:${string}`, size: b.size, data: streamOf(b.bytes) });
      await content.putBlob('lazy/app', blobOf(lazy.config));
      await content.putManifest('lazy/app', 'v1', { payload: lazy.manifest.bytes, mediaType: lazy.manifest.mediaType }, undefined, { lazyReferences: true });
      const quotas = registry.get(quotasServiceRef).service;
      const charged = lazy.config.size + lazy.manifest.size;
      assert.equal((await api('GET', '/projects/lazy/quota')).body.used.storage, charged, 'charged as it arrived: config and manifest');
      const recomputed = await quotas.reconcile('lazy');
      assert.equal(recomputed.storageUsed, charged, 'a recompute does not charge the layer still upstream');
      assert.equal(recomputed.countUsed, 1);
      // The layer arrives (a client pulled it through the cache): charged, and the recompute agrees.
      await content.putBlob('lazy/app', blobOf(lazy.layer));
      assert.equal((await api('GET', '/projects/lazy/quota')).body.used.storage, charged + lazy.layer.size);
      assert.equal((await quotas.reconcile('lazy')).storageUsed, charged + lazy.layer.size);
    });

    it('frees a deleted repository\'s usage (one recompute for all its artifacts)', async () => {
      assert.ok(content);
      await pushImage(registry.url, 'tiny/app', 'v1', tinyImage({ text: 'tiny v1\n' }), { authorization: admin });
      await pushImage(registry.url, 'tiny/app', 'v2', tinyImage({ text: 'tiny v2\n' }), { authorization: admin });
      assert.equal((await api('GET', '/projects/tiny/quota')).body.used.count, 2);
      assert.deepEqual(await content.deleteRepository('tiny/app'), { artifacts: 2 });
      const used = await eventually('usage after the repository delete', async () => {
        const res = await api('GET', '/projects/tiny/quota');
        return res.body.used.count === 0 && res.body.used.storage === 0 ? res.body.used : undefined;
      });
      assert.deepEqual(used, { storage: 0, count: 0 });
    });
  });
});
