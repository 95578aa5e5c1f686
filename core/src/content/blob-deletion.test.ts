import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { after, before, it } from 'node:test';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { blob, imageManifest, OCI_MANIFEST, openContentFixture, type ContentFixture } from './test-support.js';

/**
 * `coreServices.blobs.deleteUnreferenced` with the registry's write paths (ADR 0029): a blob
 * in use is kept, a claimed blob refuses mounts, and a re-push of content a collection is
 * deleting waits for the sweep and then stores its bytes anew: never lost.
 */

forEachDatabase((_name, create) => {
  let f: ContentFixture;
  before(async () => {
    f = await openContentFixture((await create()).config);
  });
  after(() => f.close());
  const future = () => new Date(Date.now() + 60_000);

  it('deletes unreferenced blobs (bytes and rows) and keeps one a manifest references', async () => {
    const used = blob('deletion used layer');
    const unused = blob('deletion unused layer');
    const config = blob('deletion config');
    for (const b of [used, unused, config]) await f.content.putBlob('del/a', { digest: b.digest, data: b.data() });
    await f.content.putManifest('del/a', 'v1', { payload: imageManifest(config, [used]), mediaType: OCI_MANIFEST });
    const result = await f.blobs.deleteUnreferenced([used.digest, unused.digest, config.digest], { olderThan: future(), run: 'test-1' });
    assert.deepEqual([result.deleted.map((b) => b.digest), result.kept], [[unused.digest], 2]);
    assert.equal(await f.storage.stat(unused.digest), undefined);
    assert.equal(await f.blobs.stat(unused.digest), undefined);
    assert.equal(await text((await f.blobs.read('del/a', used.digest)).stream), 'deletion used layer');
    await assert.rejects(f.blobs.deleteUnreferenced([used.digest], { olderThan: future(), run: '' }), RangeError);
  });

  it('a re-push of a blob being deleted waits for the sweep, then stores it anew; a mount of it falls back to an upload', async () => {
    const layer = blob('deletion re-pushed layer');
    await f.content.putBlob('del/b', { digest: layer.digest, data: layer.data() });
    // A collection claimed it (rows), and has not deleted the bytes yet.
    const claimed = await f.metadata.claimBlobs([layer.digest], future(), 'slow-run');
    assert.equal(claimed.length, 1);
    assert.equal(await f.content.mountBlob('del/c', layer.digest, 'del/b'), false, 'no mount of a claimed blob');
    let pushed = false;
    const push = f.content.putBlob('del/c', { digest: layer.digest, data: layer.data() }).then((r) => {
      pushed = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(pushed, false, 'the push waits while the blob is claimed');
    // The collection finishes: bytes, then the row.
    await f.storage.delete([layer.digest]);
    assert.equal(await f.metadata.dropClaimedBlobs([layer.digest]), 1);
    assert.deepEqual(await push, { size: layer.size });
    assert.equal(await text((await f.blobs.read('del/c', layer.digest)).stream), 'deletion re-pushed layer', 'the bytes are there after the sweep');
  });
});
