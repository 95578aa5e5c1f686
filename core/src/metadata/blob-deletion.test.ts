import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createKnex, KnexMetadataStore } from './index.js';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { digestOf, manifestInput, silentLogger } from './test-support.js';

/**
 * The blob deletion protocol's database half (ADR 0029): claims, reservations, links refused on
 * claimed rows, and a manifest PUT racing a claim never ending with a manifest whose blob is gone.
 */

forEachDatabase((_name, create) => {
  let store: KnexMetadataStore;
  let clock = 10_000_000;
  let realClock = false;
  before(async () => {
    const db = await create();
    store = new KnexMetadataStore(createKnex(db.config, silentLogger), silentLogger, { now: () => (realClock ? Date.now() : clock) });
    await store.migrate();
  });
  after(() => store.close());

  it('claims an old unreferenced blob, unlinks it, refuses links and mounts until its row is dropped', async () => {
    clock = 10_000_000;
    const d = digestOf('claim me');
    assert.equal(await store.linkBlob('del/a', d, 5), true);
    clock = 20_000_000;
    const claimed = await store.claimBlobs([d], new Date(15_000_000), 'run-1');
    assert.deepEqual(claimed.map((b) => [b.digest, b.size]), [[d, 5]]);
    assert.equal(await store.getLinkedBlob('del/a', d), undefined, 'the claim removed the link');
    assert.equal(await store.getBlob(d), undefined, 'a claimed blob is not mountable');
    assert.equal(await store.linkBlob('del/b', d, 5, undefined, { mount: true }), false);
    assert.equal(await store.linkBlob('del/b', d, 5), false, 'a commit cannot link a claimed blob either');
    assert.equal(await store.reserveBlob(d, 5, 1000), 'deleting');
    assert.deepEqual((await store.listClaimedBlobs(10)).map((b) => b.digest), [d]);
    assert.deepEqual((await store.listUnreferencedBlobs(new Date(30_000_000), undefined)).items, [], 'claimed blobs are not candidates again');
    assert.equal(await store.dropClaimedBlobs([d]), 1);
    assert.deepEqual(await store.listClaimedBlobs(10), []);
    const fresh = await store.reserveBlob(d, 5, 1000);
    assert.notEqual(fresh, 'deleting', 'after the row is gone a new push starts afresh');
    assert.equal(await store.linkBlob('del/b', d, 5, undefined, { reservation: fresh === 'deleting' ? undefined : fresh.holder }), true);
  });

  it('records the uploads committed as a blob, complete only once every commit linked (ADR 0037)', async () => {
    clock = 30_000_000;
    const d = digestOf('recorded commits');
    const first = await store.reserveBlob(d, 3, 60_000_000, 'upload-first-1');
    const second = await store.reserveBlob(d, 3, 60_000_000, 'upload-second-2');
    assert.ok(first !== 'deleting' && second !== 'deleting');
    assert.deepEqual([...(await store.committedUploads([d])).keys()], [], 'no record is complete while commits are in flight');
    assert.equal(await store.linkBlob('rec/a', d, 3, undefined, { reservation: first.holder }), true);
    assert.deepEqual([...(await store.committedUploads([d])).keys()], [], 'the second commit has not linked yet');
    assert.equal(await store.linkBlob('rec/a', d, 3, undefined, { reservation: second.holder }), true);
    assert.deepEqual((await store.committedUploads([d])).get(d)?.sort(), ['upload-first-1', 'upload-second-2']);
    // A commit that failed after its reservation may have left objects: its digest goes by lookup.
    const failed = await store.reserveBlob(d, 3, 60_000_000, 'upload-failed-3');
    assert.ok(failed !== 'deleting');
    await store.releaseReservation(failed.holder);
    assert.equal((await store.committedUploads([d])).has(d), false);
    // Retried on the same upload and linked: complete again.
    const retried = await store.reserveBlob(d, 3, 60_000_000, 'upload-failed-3');
    assert.ok(retried !== 'deleting');
    await store.linkBlob('rec/a', d, 3, undefined, { reservation: retried.holder });
    assert.equal((await store.committedUploads([d])).get(d)?.length, 3);
    // A row created without a reservation (as before migration 009) has no complete record.
    const old = digestOf('recorded commits, old row');
    await store.linkBlob('rec/a', old, 4);
    assert.equal((await store.committedUploads([old])).has(old), false);
    // Dropping the claimed row drops its records: a later push of the content starts afresh.
    clock = 90_000_000;
    await store.unlinkBlob('rec/a', d);
    await store.unlinkBlob('rec/a', old);
    assert.equal((await store.claimBlobs([d, old], new Date(80_000_000), 'run-rec')).length, 2);
    assert.equal(await store.dropClaimedBlobs([d, old]), 2);
    const again = await store.reserveBlob(d, 3, 60_000_000, 'upload-again-4');
    assert.ok(again !== 'deleting');
    await store.linkBlob('rec/b', d, 3, undefined, { reservation: again.holder });
    assert.deepEqual((await store.committedUploads([d])).get(d), ['upload-again-4']);
  });

  it('keeps referenced, reserved, young and recently linked blobs', async () => {
    clock = 40_000_000;
    const referenced = digestOf('kept referenced');
    const reserved = digestOf('kept reserved');
    const relinked = digestOf('kept relinked');
    const young = digestOf('kept young');
    await store.linkBlob('keep/a', referenced, 1);
    assert.deepEqual(await store.putManifest(manifestInput('keep/a', 'keep m', { blobRefs: [referenced] })), { ok: true, created: true });
    assert.notEqual(await store.reserveBlob(reserved, 1, 60_000_000), 'deleting');
    // Two commits of one digest: the first one linking does not end the second's reservation.
    const first = await store.reserveBlob(relinked, 1, 60_000_000);
    const second = await store.reserveBlob(relinked, 1, 60_000_000);
    assert.ok(first !== 'deleting' && second !== 'deleting');
    await store.linkBlob('keep/a', relinked, 1, undefined, { reservation: first.holder });
    clock = 50_000_000;
    // The same link again refreshes its time: a re-push of old content counts as new use.
    await store.linkBlob('keep/a', relinked, 1);
    clock = 55_000_000;
    await store.linkBlob('keep/a', young, 1);
    clock = 60_000_000;
    const claimed = await store.claimBlobs([referenced, reserved, relinked, young], new Date(45_000_000), 'run-2');
    assert.deepEqual(claimed, []);
    assert.deepEqual(await store.listClaimedBlobs(10), [], 'claims given back when the re-check finds a use');
    assert.ok(await store.getLinkedBlob('keep/a', referenced));
    assert.ok(await store.getLinkedBlob('keep/a', relinked));
    assert.deepEqual(await store.claimBlobs([relinked], new Date(150_000_000), 'run-2b'), [], "the second commit's reservation still holds");
    await store.releaseReservation(second.holder);
    // Once the reservation lapses the reserved (never linked) blob is garbage.
    clock = 200_000_000;
    assert.deepEqual((await store.claimBlobs([reserved], new Date(45_000_000), 'run-3')).map((b) => b.digest), [reserved]);
    assert.equal(await store.dropClaimedBlobs([reserved]), 1);
  });

  it('a manifest PUT racing claims: every stored manifest keeps every blob it references', async () => {
    realClock = true;
    try {
      const digests = Array.from({ length: 24 }, (_, i) => digestOf(`race layer ${i}`));
      for (const d of digests) assert.equal(await store.linkBlob('race/a', d, 3), true);
      const window = new Date(Date.now() + 60_000);
      const puts = digests.map((d, i) => store.putManifest(manifestInput('race/a', `race manifest ${i}`, { blobRefs: [d] })));
      const claims = [0, 6, 12, 18].map((start) => store.claimBlobs(digests.slice(start, start + 6), window, `race-${start}`));
      const [putResults, claimResults] = await Promise.all([Promise.all(puts), Promise.all(claims)]);
      const claimed = new Set(claimResults.flat().map((b) => b.digest));
      digests.forEach((d, i) => {
        const stored = putResults[i]?.ok === true;
        assert.notEqual(stored, claimed.has(d), `${d}: exactly one of the manifest and the claim wins`);
      });
      for (const [i, d] of digests.entries()) {
        if (putResults[i]?.ok) assert.ok(await store.getLinkedBlob('race/a', d), 'a stored manifest keeps its blob linked');
      }
    } finally {
      realClock = false;
    }
  });
});
