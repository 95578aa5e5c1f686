import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import type { Digest } from '@wharf/sdk';
import type { MetadataStore } from './types.js';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { digestOf, manifestInput, openStore } from './test-support.js';

forEachDatabase((_name, create) => {
  let store: MetadataStore;
  let other: MetadataStore;
  before(async () => {
    const db = await create();
    store = openStore(db.config);
    other = openStore(db.config);
    await store.migrate();
  });
  after(async () => {
    await store.close();
    await other.close();
  });

  /** Links a config and a layer blob into `repository`, returning their digests. */
  async function blobs(repository: string, seed: string): Promise<Digest[]> {
    const digests = [digestOf(`${seed} config`), digestOf(`${seed} layer`)];
    for (const d of digests) await store.linkBlob(repository, d, 100);
    return digests;
  }

  it('stores a manifest with its tag and reads it back', async () => {
    const refs = await blobs('put/ok', 'ok');
    const input = manifestInput('put/ok', 'ok', { blobRefs: refs, tag: 'v1', annotations: { a: 'b' } });
    assert.deepEqual(await store.putManifest(input), { ok: true, created: true });
    const record = await other.getManifest('put/ok', input.digest);
    assert.ok(record);
    assert.equal(record.repository, 'put/ok');
    assert.equal(record.digest, input.digest);
    assert.equal(record.mediaType, input.mediaType);
    assert.equal(record.artifactType, undefined);
    assert.equal(record.subject, undefined);
    assert.equal(record.size, input.payload.length);
    assert.ok(record.payload.equals(input.payload));
    assert.ok(record.createdAt instanceof Date && Math.abs(record.createdAt.getTime() - Date.now()) < 60_000);
    assert.equal(await store.resolveTag('put/ok', 'v1'), input.digest);
    assert.equal(await store.getManifest('put/other', input.digest), undefined);
  });

  it('fails a put with missing references and stores nothing', async () => {
    const [config] = await blobs('put/elsewhere', 'missing');
    const missingLayer = digestOf('never uploaded');
    const missingChild = digestOf('no such manifest');
    const input = manifestInput('put/missing', 'missing', {
      blobRefs: [config!, missingLayer, missingLayer],
      manifestRefs: [missingChild],
      tag: 'v1',
    });
    const result = await store.putManifest(input);
    // The config blob is linked to another repository only: it counts as missing here.
    assert.deepEqual(result, { ok: false, missingBlobs: [config, missingLayer], missingManifests: [missingChild] });
    assert.equal(await store.repositoryExists('put/missing'), false, 'repository creation rolled back');
    assert.equal(await store.getManifest('put/missing', input.digest), undefined);
    assert.equal(await store.resolveTag('put/missing', 'v1'), undefined);
  });

  it('stores an index whose children exist, and refuses one whose children do not', async () => {
    const refs = await blobs('index/repo', 'child');
    const child = manifestInput('index/repo', 'child', { blobRefs: refs });
    await store.putManifest(child);
    const index = manifestInput('index/repo', 'index', {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifestRefs: [child.digest],
      tag: 'multi',
    });
    assert.deepEqual(await store.putManifest(index), { ok: true, created: true });
    const orphan = manifestInput('index/other', 'orphan index', { manifestRefs: [child.digest] });
    assert.deepEqual(await store.putManifest(orphan), { ok: false, missingBlobs: [], missingManifests: [child.digest] });
  });

  it('re-puts a digest under another tag and moves a tag', async () => {
    const refs = await blobs('tags/move', 'move');
    const first = manifestInput('tags/move', 'first', { blobRefs: refs, tag: 'latest' });
    const second = manifestInput('tags/move', 'second', { blobRefs: refs, tag: 'latest' });
    assert.deepEqual(await store.putManifest(first), { ok: true, created: true });
    assert.deepEqual(await store.putManifest({ ...first, tag: 'v1' }), { ok: true, created: false });
    assert.deepEqual(await store.putManifest({ ...first, tag: undefined }), { ok: true, created: false });
    assert.equal(await store.resolveTag('tags/move', 'v1'), first.digest);
    assert.equal(await store.resolveTag('tags/move', 'latest'), first.digest);
    assert.deepEqual(await store.putManifest(second), { ok: true, created: true });
    assert.equal(await store.resolveTag('tags/move', 'latest'), second.digest, 'tag moved');
    assert.equal(await store.resolveTag('tags/move', 'v1'), first.digest);
    assert.ok(await store.getManifest('tags/move', first.digest), 'the untagged manifest stays');
  });

  it('lets two stores put the same manifest and tag at once', async () => {
    const refs = await blobs('race/put', 'race');
    const input = manifestInput('race/put', 'race', { blobRefs: refs, tag: 'latest' });
    const results = await Promise.all([store, other, store, other].map((s) => s.putManifest(input)));
    for (const result of results) assert.equal(result.ok, true);
    assert.equal(results.filter((r) => r.ok && r.created).length, 1, 'exactly one put created the row');
    assert.equal(await store.resolveTag('race/put', 'latest'), input.digest);
    // Different manifests racing for one tag: one of them wins, neither fails.
    const a = manifestInput('race/put', 'a', { blobRefs: refs, tag: 'contended' });
    const b = manifestInput('race/put', 'b', { blobRefs: refs, tag: 'contended' });
    const [ra, rb] = await Promise.all([store.putManifest(a), other.putManifest(b)]);
    assert.deepEqual([ra, rb], [{ ok: true, created: true }, { ok: true, created: true }]);
    assert.ok([a.digest, b.digest].includes((await store.resolveTag('race/put', 'contended'))!));
  });

  it('deletes a manifest with every tag pointing at it', async () => {
    const refs = await blobs('del/manifest', 'del');
    const doomed = manifestInput('del/manifest', 'doomed', { blobRefs: refs, tag: 'x' });
    const kept = manifestInput('del/manifest', 'kept', { blobRefs: refs, tag: 'keep' });
    await store.putManifest(doomed);
    await store.putManifest({ ...doomed, tag: 'y' });
    await store.putManifest(kept);
    assert.equal(await store.deleteManifest('del/manifest', doomed.digest), true);
    assert.equal(await store.deleteManifest('del/manifest', doomed.digest), false);
    assert.equal(await store.deleteManifest('del/nowhere', doomed.digest), false);
    assert.equal(await store.getManifest('del/manifest', doomed.digest), undefined);
    assert.equal(await store.resolveTag('del/manifest', 'x'), undefined);
    assert.equal(await store.resolveTag('del/manifest', 'y'), undefined);
    assert.deepEqual(await store.listTags('del/manifest', { n: 10, last: undefined }), ['keep']);
    // Gone for good: putting it again creates a fresh row.
    assert.deepEqual(await store.putManifest(doomed), { ok: true, created: true });
  });

  it('deletes one tag and keeps the manifest', async () => {
    const input = manifestInput('del/tag', 'tagged', { tag: 'gone' });
    await store.putManifest(input);
    assert.equal(await store.deleteTag('del/tag', 'gone'), true);
    assert.equal(await store.deleteTag('del/tag', 'gone'), false);
    assert.equal(await store.deleteTag('del/none', 'gone'), false);
    assert.equal(await store.resolveTag('del/tag', 'gone'), undefined);
    assert.ok(await store.getManifest('del/tag', input.digest));
  });

  it('lists tags case-sensitively in byte order, page by page', async () => {
    const tags = ['b', 'B', 'a', 'A', 'a_', 'a-', 'a.1', 'Z', '0', 'latest', 'Latest'];
    const input = manifestInput('tags/list', 'listed');
    for (const tag of tags) await store.putManifest({ ...input, tag });
    const expected = [...tags].sort();
    assert.deepEqual(await store.listTags('tags/list', { n: 100, last: undefined }), expected);
    const seen: string[] = [];
    let last: string | undefined;
    for (;;) {
      const page: string[] | undefined = await store.listTags('tags/list', { n: 4, last });
      assert.ok(page);
      if (page.length === 0) break;
      seen.push(...page);
      last = page.at(-1);
    }
    assert.deepEqual(seen, expected);
    assert.deepEqual(await store.listTags('tags/list', { n: 2, last: 'Z' }), ['a', 'a-']);
    assert.deepEqual(await store.listTags('tags/list', { n: 0, last: undefined }), []);
    assert.equal(await store.listTags('tags/unknown', { n: 10, last: undefined }), undefined);
    await store.linkBlob('tags/empty', digestOf('e'), 1);
    assert.deepEqual(await store.listTags('tags/empty', { n: 10, last: undefined }), []);
  });

  it('round-trips a 4 MiB payload byte for byte', async () => {
    const payload = randomBytes(4 * 1024 * 1024);
    const input = manifestInput('big/payload', 'big', { payload, digest: digestOf(payload, 'sha512'), tag: 'big' });
    assert.deepEqual(await store.putManifest(input), { ok: true, created: true });
    const record = await other.getManifest('big/payload', input.digest);
    assert.ok(record);
    assert.equal(record.size, payload.length);
    assert.equal(record.payload.length, payload.length);
    assert.equal(Buffer.compare(record.payload, payload), 0);
    assert.equal(await store.resolveTag('big/payload', 'big'), input.digest);
  });

  it('stores sha512 digests and references', async () => {
    const layer = digestOf('sha512 layer', 'sha512');
    await store.linkBlob('sha512/repo', layer, 3);
    const payload = Buffer.from('sha512 manifest');
    const input = manifestInput('sha512/repo', 'x', { payload, digest: digestOf(payload, 'sha512'), blobRefs: [layer] });
    assert.deepEqual(await store.putManifest(input), { ok: true, created: true });
    assert.equal((await store.getManifest('sha512/repo', input.digest))?.digest, input.digest);
  });

  it('refuses a tag longer than 128 characters', async () => {
    await assert.rejects(store.putManifest(manifestInput('long/tag', 't', { tag: 'a'.repeat(129) })), RangeError);
    assert.equal(await store.repositoryExists('long/tag'), false);
  });
});
