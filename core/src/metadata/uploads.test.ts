import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import type { MetadataStore } from './types.js';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { openStore } from './test-support.js';

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

  it('creates and reads an upload with its driver state', async () => {
    const before = Date.now();
    await store.createUpload({ id: 'u-create', repository: 'up/app', state: { size: 0, parts: ['a'], key: 'k/1' } });
    const upload = await other.getUpload('u-create');
    assert.ok(upload);
    assert.equal(upload.id, 'u-create');
    assert.equal(upload.repository, 'up/app');
    assert.deepEqual(upload.state, { size: 0, parts: ['a'], key: 'k/1' });
    assert.ok(upload.createdAt.getTime() >= before - 5 && upload.createdAt.getTime() <= Date.now() + 5);
    assert.equal(upload.updatedAt.getTime(), upload.createdAt.getTime());
    assert.equal(await store.getUpload('u-unknown'), undefined);
    await assert.rejects(store.createUpload({ id: 'u-create', repository: 'up/app', state: { size: 0 } }));
  });

  it('updates state only from the expected size', async () => {
    await store.createUpload({ id: 'u-cas', repository: 'up/app', state: { size: 0 } });
    assert.equal(await store.updateUpload('u-cas', 0, { size: 10, parts: 1 }), true);
    assert.equal(await other.updateUpload('u-cas', 0, { size: 20, parts: 2 }), false, 'stale expected size');
    assert.deepEqual((await store.getUpload('u-cas'))?.state, { size: 10, parts: 1 });
    assert.equal(await other.updateUpload('u-cas', 10, { size: 20, parts: 2 }), true);
    assert.deepEqual((await store.getUpload('u-cas'))?.state, { size: 20, parts: 2 });
    assert.equal(await store.updateUpload('u-missing', 0, { size: 1 }), false);
    // Two writers racing from the same offset: exactly one wins.
    const results = await Promise.all([store, other, store].map((s, i) => s.updateUpload('u-cas', 20, { size: 30 + i })));
    assert.equal(results.filter(Boolean).length, 1);
    const large = 6 * 1024 ** 3;
    assert.equal(await store.updateUpload('u-cas', (await store.getUpload('u-cas'))!.state.size, { size: large }), true);
    assert.equal((await other.getUpload('u-cas'))?.state.size, large);
  });

  it('gives the write lease to one holder until release or expiry', async () => {
    await store.createUpload({ id: 'u-lease', repository: 'up/app', state: { size: 0 } });
    assert.equal(await store.acquireUploadLease('u-lease', 'node-a', 60_000), true);
    assert.equal(await other.acquireUploadLease('u-lease', 'node-b', 60_000), false);
    assert.equal(await store.acquireUploadLease('u-lease', 'node-a', 60_000), true, 'the holder renews');
    await other.releaseUploadLease('u-lease', 'node-b'); // not the holder: no effect
    assert.equal(await other.acquireUploadLease('u-lease', 'node-b', 60_000), false);
    await store.releaseUploadLease('u-lease', 'node-a');
    assert.equal(await other.acquireUploadLease('u-lease', 'node-b', 40), true);
    assert.equal(await store.acquireUploadLease('u-lease', 'node-a', 60_000), false);
    await sleep(120);
    assert.equal(await store.acquireUploadLease('u-lease', 'node-a', 60_000), true, 'expired lease taken over');
    assert.equal(await store.acquireUploadLease('u-unknown', 'node-a', 60_000), false);
  });

  it('hands a free lease to exactly one of many racing holders', async () => {
    await store.createUpload({ id: 'u-race', repository: 'up/app', state: { size: 0 } });
    const holders = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
    const results = await Promise.all(
      holders.map((h, i) => (i % 2 ? store : other).acquireUploadLease('u-race', h, 60_000)),
    );
    assert.equal(results.filter(Boolean).length, 1);
  });

  it('lists stale uploads oldest first, skipping live leases', async () => {
    await store.createUpload({ id: 's-old', repository: 'stale/app', state: { size: 0 } });
    await sleep(15);
    await store.createUpload({ id: 's-leased', repository: 'stale/app', state: { size: 0 } });
    await store.acquireUploadLease('s-leased', 'node-a', 60_000);
    await sleep(15);
    const mark = new Date();
    await sleep(15);
    await store.createUpload({ id: 's-new', repository: 'stale/app', state: { size: 0 } });
    const ids = (list: { id: string }[]): string[] => list.map((u) => u.id).filter((id) => id.startsWith('s-'));

    assert.deepEqual(ids(await store.listStaleUploads(mark, 100)), ['s-old']);
    const later = new Date(Date.now() + 1000);
    assert.deepEqual(ids(await store.listStaleUploads(later, 100)).slice(-2), ['s-old', 's-new']);
    assert.equal((await store.listStaleUploads(later, 1)).length, 1);
    assert.deepEqual(await store.listStaleUploads(later, 0), []);
    await store.releaseUploadLease('s-leased', 'node-a');
    assert.ok(ids(await store.listStaleUploads(later, 100)).includes('s-leased'));
    // Touching an upload makes it fresh again.
    await sleep(15);
    await store.updateUpload('s-old', 0, { size: 5 });
    assert.deepEqual(ids(await store.listStaleUploads(mark, 100)), ['s-leased']);
  });

  it('deletes uploads', async () => {
    await store.createUpload({ id: 'u-delete', repository: 'up/app', state: { size: 0 } });
    await store.deleteUpload('u-delete');
    assert.equal(await store.getUpload('u-delete'), undefined);
    await store.deleteUpload('u-delete');
  });
});
