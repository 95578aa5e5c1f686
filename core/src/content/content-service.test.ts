import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import { RegistryError, type BlobCommittedEvent, type ManifestDeletedEvent, type ManifestPushedEvent, type ManifestPutContext, type DeleteContext } from '@wharf/sdk';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { SYSTEM_PRINCIPAL } from './index.js';
import { blob, imageManifest, OCI_MANIFEST, openContentFixture, record, sha256, type ContentFixture } from './test-support.js';

/** `coreServices.content`: writes with the kernel's checks, gates and events, leaving nothing behind on failure. */

const registryError = (code: string) => (err: unknown) => {
  assert.ok(err instanceof RegistryError, `expected a RegistryError, got ${String(err)}`);
  assert.equal(err.code, code);
  return true;
};

forEachDatabase((_name, create) => {
  let f: ContentFixture;
  let committed: BlobCommittedEvent[];
  let pushed: ManifestPushedEvent[];
  let deleted: ManifestDeletedEvent[];
  let gatedPuts: ManifestPutContext[];
  let gatedDeletes: DeleteContext[];
  before(async () => {
    f = await openContentFixture((await create()).config);
    committed = record(f.hooks.registry.blobCommitted);
    pushed = record(f.hooks.registry.manifestPushed);
    deleted = record(f.hooks.registry.manifestDeleted);
    gatedPuts = record(f.hooks.registry.beforeManifestPut);
    gatedDeletes = record(f.hooks.registry.beforeDelete);
    f.hooks.registry.beforeManifestPut.tapPromise('immutable', async (ctx) => {
      if (ctx.tag === 'frozen') throw new RegistryError('DENIED', 'tag is immutable');
    });
  });
  after(() => f.close());

  it('puts a blob from a stream: stored, linked, and blobCommitted raised', async () => {
    const b = blob('content put blob');
    assert.deepEqual(await f.content.putBlob('put/blob', { digest: b.digest, size: b.size, data: b.data() }), { size: b.size });
    assert.deepEqual(await f.storage.stat(b.digest), { size: b.size });
    assert.deepEqual(await f.metadata.getLinkedBlob('put/blob', b.digest), { size: b.size });
    await tick();
    const event = committed.find((e) => e.digest === b.digest);
    assert.ok(event);
    assert.equal(event.repository, 'put/blob');
    assert.equal(event.mounted, false);
    assert.equal(event.actor, SYSTEM_PRINCIPAL);
    assert.deepEqual(await f.uploadFiles(), []);
  });

  it('fails a blob with the wrong digest and leaves nothing: no blob, no link, no upload', async () => {
    const b = blob('content wrong digest');
    const claimed = sha256('something else');
    const before = committed.length;
    await assert.rejects(f.content.putBlob('put/wrong', { digest: claimed, data: b.data() }), registryError('DIGEST_INVALID'));
    assert.equal(await f.storage.stat(b.digest), undefined);
    assert.equal(await f.storage.stat(claimed), undefined);
    assert.equal(await f.metadata.getLinkedBlob('put/wrong', claimed), undefined);
    assert.deepEqual(await f.metadata.listStaleUploads(new Date(Date.now() + 60_000), 100), []);
    assert.deepEqual(await f.uploadFiles(), []);
    await tick();
    assert.equal(committed.length, before, 'no event');
  });

  it('fails a blob shorter than its size with SIZE_INVALID, leaving no upload', async () => {
    const b = blob('content short');
    await assert.rejects(f.content.putBlob('put/short', { digest: b.digest, size: b.size + 5, data: b.data() }), registryError('SIZE_INVALID'));
    assert.equal(await f.storage.stat(b.digest), undefined);
    assert.deepEqual(await f.metadata.listStaleUploads(new Date(Date.now() + 60_000), 100), []);
    assert.deepEqual(await f.uploadFiles(), []);
  });

  it('mounts a blob from another repository and says false when the source lacks it', async () => {
    const b = blob('content mount');
    await f.content.putBlob('mount/from', { digest: b.digest, data: b.data() });
    assert.equal(await f.content.mountBlob('mount/to', b.digest, 'mount/from'), true);
    assert.deepEqual(await f.metadata.getLinkedBlob('mount/to', b.digest), { size: b.size });
    assert.equal(await f.content.mountBlob('mount/to2', b.digest, 'mount/nowhere'), false);
    await tick();
    assert.ok(committed.some((e) => e.repository === 'mount/to' && e.mounted));
  });

  it('puts a manifest through the gates with the caller as principal, and raises manifestPushed', async () => {
    const config = blob('content config');
    const layer = blob('content layer');
    for (const b of [config, layer]) await f.content.putBlob('man/app', { digest: b.digest, data: b.data() });
    const payload = imageManifest(config, [layer]);
    const principal = { subject: 'gc', kind: 'system' as const, provider: 'gc-plugin', admin: true, groups: [] };
    const stored = await f.content.putManifest('man/app', 'v1', { payload, mediaType: OCI_MANIFEST }, { principal });
    assert.equal(stored.digest, sha256(payload));
    assert.equal(stored.tag, 'v1');
    assert.equal(stored.size, payload.length);
    assert.equal(await f.artifacts.resolveTag('man/app', 'v1'), stored.digest);
    const gate = gatedPuts.find((g) => g.digest === stored.digest);
    assert.equal(gate?.principal, principal);
    assert.equal(gate?.request.path, '/v2/man/app/manifests/v1');
    await tick();
    const event = pushed.find((e) => e.digest === stored.digest);
    assert.deepEqual(event && { tag: event.tag, repository: event.repository, subject: event.subject, actor: event.actor }, { tag: 'v1', repository: 'man/app', subject: undefined, actor: principal });
  });

  it('fails a manifest whose layers are missing with MANIFEST_BLOB_UNKNOWN and stores nothing', async () => {
    const config = blob('content orphan config');
    await f.content.putBlob('man/missing', { digest: config.digest, data: config.data() });
    const payload = imageManifest(config, [{ digest: sha256('never pushed layer'), size: 3 }]);
    const before = pushed.length;
    await assert.rejects(f.content.putManifest('man/missing', 'v1', { payload, mediaType: OCI_MANIFEST }), registryError('MANIFEST_BLOB_UNKNOWN'));
    assert.equal(await f.metadata.getManifest('man/missing', sha256(payload)), undefined);
    assert.equal(await f.artifacts.resolveTag('man/missing', 'v1'), undefined);
    assert.equal((await f.artifacts.getRepository('man/missing'))?.artifactCount, 0);
    await tick();
    assert.equal(pushed.length, before, 'no event');
  });

  it('stores a manifest whose content is not held yet with lazyReferences, references recorded, gates and events as usual', async () => {
    const layer = { digest: sha256('lazy layer not fetched yet'), size: 26 };
    const config = { digest: sha256('lazy config not fetched yet'), size: 27 };
    const payload = imageManifest(config, [layer]);
    const gated = gatedPuts.length;
    const stored = await f.content.putManifest('man/lazy', 'v1', { payload, mediaType: OCI_MANIFEST }, undefined, { lazyReferences: true });
    assert.equal(stored.digest, sha256(payload));
    assert.equal(await f.artifacts.resolveTag('man/lazy', 'v1'), stored.digest);
    assert.equal(gatedPuts.length, gated + 1, 'the gates ran');
    const referencing = await f.artifacts.listReferencing(layer.digest);
    assert.deepEqual(referencing.items.map((r) => [r.repository, r.digest, r.relation]), [['man/lazy', stored.digest, 'blob']]);
    assert.equal(await f.metadata.getLinkedBlob('man/lazy', layer.digest), undefined, 'nothing linked that is not there');
    await tick();
    assert.ok(pushed.some((e) => e.digest === stored.digest && e.repository === 'man/lazy'));
  });

  it('lets a policy gate refuse a manifest, and checks digest references', async () => {
    const config = blob('content gated config');
    await f.content.putBlob('man/gated', { digest: config.digest, data: config.data() });
    const payload = imageManifest(config, []);
    await assert.rejects(f.content.putManifest('man/gated', 'frozen', { payload, mediaType: OCI_MANIFEST }), registryError('DENIED'));
    assert.equal(await f.metadata.getManifest('man/gated', sha256(payload)), undefined);
    await assert.rejects(f.content.putManifest('man/gated', sha256('other'), { payload, mediaType: OCI_MANIFEST }), registryError('DIGEST_INVALID'));
    await assert.rejects(f.content.putManifest('man/gated', 'bad tag!', { payload, mediaType: OCI_MANIFEST }), registryError('TAG_INVALID'));
    await assert.rejects(f.content.putManifest('Bad/Name', 'v1', { payload, mediaType: OCI_MANIFEST }), registryError('NAME_INVALID'));
    await assert.rejects(f.content.putManifest('man/gated', 'v1', { payload: Buffer.from('{'), mediaType: OCI_MANIFEST }), registryError('MANIFEST_INVALID'));
  });

  it('deletes a tag, then the manifest, through beforeDelete, raising manifestDeleted each time', async () => {
    const config = blob('content delete config');
    await f.content.putBlob('del/app', { digest: config.digest, data: config.data() });
    const stored = await f.content.putManifest('del/app', 'old', { payload: imageManifest(config, []), mediaType: OCI_MANIFEST });
    await f.content.putManifest('del/app', 'older', { payload: imageManifest(config, []), mediaType: OCI_MANIFEST });
    assert.deepEqual(await f.content.deleteTag('del/app', 'old'), { digest: stored.digest });
    assert.equal(await f.artifacts.resolveTag('del/app', 'old'), undefined);
    assert.deepEqual((await f.artifacts.getArtifact('del/app', stored.digest))?.tags, ['older']);
    await f.content.deleteManifest('del/app', stored.digest);
    assert.equal(await f.artifacts.getArtifact('del/app', stored.digest), undefined);
    assert.equal(await f.artifacts.resolveTag('del/app', 'older'), undefined);
    await assert.rejects(f.content.deleteManifest('del/app', stored.digest), registryError('MANIFEST_UNKNOWN'));
    await assert.rejects(f.content.deleteTag('del/app', stored.digest), registryError('TAG_INVALID'));
    assert.deepEqual(gatedDeletes.filter((g) => g.repository === 'del/app').map((g) => g.target.kind), ['tag', 'manifest']);
    await tick();
    assert.deepEqual(deleted.filter((e) => e.repository === 'del/app').map((e) => e.tag), ['old', undefined]);
  });

  it('refuses deletes when the registry configuration disables them', async () => {
    const off = await openContentFixture((await create()).config, { deleteEnabled: false });
    try {
      const config = blob('content no delete');
      await off.content.putBlob('nodel/app', { digest: config.digest, data: config.data() });
      const stored = await off.content.putManifest('nodel/app', 'v1', { payload: imageManifest(config, []), mediaType: OCI_MANIFEST });
      await assert.rejects(off.content.deleteManifest('nodel/app', stored.digest), registryError('UNSUPPORTED'));
      await assert.rejects(off.content.deleteTag('nodel/app', 'v1'), registryError('UNSUPPORTED'));
      assert.equal(await off.artifacts.resolveTag('nodel/app', 'v1'), stored.digest);
    } finally {
      await off.close();
    }
  });

  it('rejects a stream that errors, leaving nothing', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1024, 1));
        this.destroy(new Error('source went away'));
      },
    });
    const digest = sha256('whatever');
    await assert.rejects(f.content.putBlob('put/broken', { digest, data: failing }), /source went away/);
    assert.deepEqual(await f.metadata.listStaleUploads(new Date(Date.now() + 60_000), 100), []);
    assert.deepEqual(await f.uploadFiles(), []);
  });
});
