import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { after, before, it } from 'node:test';
import { RegistryError } from '@wharf/sdk';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { blob, imageManifest, OCI_MANIFEST, openContentFixture, sha256, type ContentFixture } from './test-support.js';

/** `coreServices.artifacts`, `blobs` and `uploads` over a real store and fs storage, with a pinned clock. */

const HOUR = 3_600_000;

forEachDatabase((_name, create) => {
  let f: ContentFixture;
  let clock = Date.UTC(2026, 0, 1);
  before(async () => {
    f = await openContentFixture((await create()).config, { now: () => clock });
  });
  after(() => f.close());

  it('lists both manifests that reference a shared blob, and counts them on the blob', async () => {
    const layer = blob('read shared layer');
    const configs = [blob('read config one'), blob('read config two')];
    const digests: string[] = [];
    for (const [i, repository] of ['read/one', 'read/two'].entries()) {
      const config = configs[i];
      assert.ok(config);
      for (const b of [config, layer]) await f.content.putBlob(repository, { digest: b.digest, data: b.data() });
      digests.push((await f.content.putManifest(repository, 'v1', { payload: imageManifest(config, [layer]), mediaType: OCI_MANIFEST })).digest);
    }
    const referencing = await f.artifacts.listReferencing(layer.digest);
    assert.deepEqual(referencing.items.map((r) => `${r.repository}@${r.digest}:${r.relation}`).sort(), [`read/one@${digests[0]}:blob`, `read/two@${digests[1]}:blob`]);
    const stat = await f.blobs.stat(layer.digest);
    assert.deepEqual(stat && [stat.size, stat.repositories, stat.referenceCount], [layer.size, ['read/one', 'read/two'], 2]);
    assert.equal(await f.blobs.stat(sha256('unknown blob')), undefined);
    await assert.rejects(f.artifacts.listReferencing('not-a-digest'), (err: unknown) => err instanceof RegistryError && err.code === 'DIGEST_INVALID');
  });

  it('reads artifacts, manifests, tags and repositories as a retention policy sees them', async () => {
    clock += HOUR;
    const config = blob('read artifact config');
    const layer = blob('read artifact layer, somewhat longer');
    for (const b of [config, layer]) await f.content.putBlob('read/app', { digest: b.digest, data: b.data() });
    const payload = imageManifest(config, [layer]);
    const stored = await f.content.putManifest('read/app', 'v1', { payload, mediaType: OCI_MANIFEST });
    const artifact = await f.artifacts.getArtifact('read/app', 'v1');
    assert.ok(artifact);
    assert.equal(artifact.digest, stored.digest);
    assert.deepEqual(artifact.tags, ['v1']);
    assert.equal(artifact.size, payload.length + config.size + layer.size);
    assert.equal(artifact.pushedAt.getTime(), clock);
    assert.equal(artifact.pulledAt, undefined);
    await f.metadata.recordPulls([{ repository: 'read/app', digest: stored.digest, at: new Date(clock + 5) }]);
    assert.equal((await f.artifacts.getArtifact('read/app', stored.digest))?.pulledAt?.getTime(), clock + 5);
    const manifest = await f.artifacts.getManifest('read/app', 'v1');
    assert.ok(manifest?.payload.equals(payload));
    assert.equal(await f.artifacts.getManifest('read/app', 'v2'), undefined);
    assert.deepEqual((await f.artifacts.listTags('read/app')).items.map((t) => [t.name, t.digest]), [['v1', stored.digest]]);
    assert.deepEqual((await f.artifacts.listArtifacts('read/app')).items.map((a) => a.digest), [stored.digest]);
    const repo = await f.artifacts.getRepository('read/app');
    assert.deepEqual(repo && [repo.artifactCount, repo.tagCount, repo.size], [1, 1, payload.length + config.size + layer.size]);
    const names = (await f.artifacts.listRepositories({ limit: 1000 })).items.map((r) => r.name);
    assert.ok(names.includes('read/app'));

    const sig = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sig',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: config.digest, size: config.size }, layers: [],
      subject: { mediaType: OCI_MANIFEST, digest: stored.digest, size: payload.length },
    }));
    const signed = await f.content.putManifest('read/app', sha256(sig), { payload: sig, mediaType: OCI_MANIFEST });
    assert.equal(signed.subject, stored.digest);
    const referrers = await f.artifacts.listReferrers('read/app', stored.digest, { artifactType: 'application/vnd.example.sig' });
    assert.deepEqual(referrers.map((r) => r.digest), [signed.digest]);
    assert.deepEqual(await f.artifacts.listReferrers('read/app', stored.digest, { artifactType: 'other' }), []);
  });

  it('streams a blob of a repository, whole or a range, and refuses one the repository lacks', async () => {
    const b = blob('read stream me please');
    await f.content.putBlob('read/stream', { digest: b.digest, data: b.data() });
    const whole = await f.blobs.read('read/stream', b.digest);
    assert.equal(whole.size, b.size);
    assert.equal(await text(whole.stream), 'read stream me please');
    const part = await f.blobs.read('read/stream', b.digest, { range: { start: 5, end: 10 } });
    assert.equal(part.size, 6);
    assert.equal(await text(part.stream), 'stream');
    assert.deepEqual(await f.blobs.inRepository('read/stream', b.digest), { size: b.size });
    assert.equal(await f.blobs.inRepository('read/other', b.digest), undefined);
    await assert.rejects(f.blobs.read('read/other', b.digest), (err: unknown) => err instanceof RegistryError && err.code === 'BLOB_UNKNOWN');
    await assert.rejects(f.blobs.read('read/stream', b.digest, { range: { start: 0, end: b.size } }), (err: unknown) => err instanceof RegistryError && err.code === 'RANGE_INVALID');
  });

  it('lists an unreferenced blob older than the window, not a younger one, and pages through all blobs', async () => {
    clock += 10 * HOUR;
    const old = blob('read gc old');
    await f.content.putBlob('read/gc', { digest: old.digest, data: old.data() });
    clock += 2 * HOUR;
    const young = blob('read gc young');
    await f.content.putBlob('read/gc', { digest: young.digest, data: young.data() });
    const window = new Date(clock - HOUR);
    const candidates = (await f.blobs.listUnreferenced(window, { limit: 1000 })).items.map((b) => b.digest);
    assert.ok(candidates.includes(old.digest));
    assert.ok(!candidates.includes(young.digest));
    assert.ok(!candidates.includes(blob('read shared layer').digest), 'a referenced blob is never a candidate');
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await f.blobs.list({ limit: 2, cursor });
      seen.push(...page.items.map((b) => b.digest));
      cursor = page.next;
    } while (cursor);
    assert.deepEqual(seen, [...seen].sort());
    assert.ok(seen.includes(old.digest) && seen.includes(young.digest));
    assert.equal(new Set(seen).size, seen.length);
  });

  it('lists stale uploads and cancels them, but not one a writer holds', async () => {
    const start = async (repository: string) => {
      const id = `upl${crypto.randomUUID().replaceAll('-', '')}`;
      const state = await f.storage.createUpload(id);
      await f.metadata.createUpload({ id, repository, state });
      return id;
    };
    clock += HOUR;
    const stale = await start('read/uploads');
    const held = await start('read/uploads');
    clock += HOUR;
    const fresh = await start('read/uploads');
    assert.equal(await f.metadata.acquireUploadLease(held, 'writer', 10 * HOUR), true);
    const listed = (await f.uploads.listStale(new Date(clock - 1))).map((u) => u.id);
    assert.ok(listed.includes(stale));
    assert.ok(!listed.includes(fresh), 'a fresh upload is not stale');
    assert.ok(!listed.includes(held), 'a held upload is not stale');
    assert.equal(await f.uploads.cancel(held), false);
    assert.ok(await f.metadata.getUpload(held));
    assert.ok((await f.uploadFiles()).includes(stale));
    assert.equal(await f.uploads.cancel(stale), true);
    assert.equal(await f.metadata.getUpload(stale), undefined);
    assert.ok(!(await f.uploadFiles()).some((p) => p.startsWith(stale)));
    assert.equal(await f.uploads.cancel(stale), false);
    assert.equal(await f.uploads.cancel('../../etc'), false);
  });
});
