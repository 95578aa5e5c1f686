import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Digest } from '@wharf/sdk';
import { createKnex, KnexMetadataStore } from './index.js';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { digestOf, manifestInput, silentLogger } from './test-support.js';

/**
 * The metadata queries behind the content services: summaries, artifacts, reverse references,
 * the garbage-collection window, and batched pull times. The store's clock is pinned so times
 * are exact.
 */

forEachDatabase((_name, create) => {
  let store: KnexMetadataStore;
  let clock = 1_000_000;
  before(async () => {
    const db = await create();
    store = new KnexMetadataStore(createKnex(db.config, silentLogger), silentLogger, { now: () => clock });
    await store.migrate();
  });
  after(() => store.close());

  async function image(repository: string, seed: string, extra: { tag?: string; shared?: Digest; subject?: Digest } = {}) {
    const config = digestOf(`${seed} config`);
    await store.linkBlob(repository, config, 10);
    const blobRefs = [config];
    if (extra.shared) {
      await store.linkBlob(repository, extra.shared, 1000);
      blobRefs.push(extra.shared);
    }
    const input = manifestInput(repository, seed, { blobRefs, tag: extra.tag, subject: extra.subject });
    assert.deepEqual(await store.putManifest(input), { ok: true, created: true });
    return input;
  }

  it('summarises repositories: counts, sizes (blobs and manifests) and the latest change', async () => {
    clock = 2_000_000;
    const shared = digestOf('sum shared layer');
    const a = await image('sum/one', 'sum a', { tag: 'v1', shared });
    clock = 2_000_500;
    const b = await image('sum/one', 'sum b', { tag: 'v2' });
    await image('sum/two', 'sum c', { shared });
    const one = await store.getRepositorySummary('sum/one');
    assert.ok(one);
    assert.equal(one.artifactCount, 2);
    assert.equal(one.tagCount, 2);
    // Two configs of 10, the shared layer once, and both manifests.
    assert.equal(one.size, 10 + 10 + 1000 + a.payload.length + b.payload.length);
    assert.equal(one.createdAt.getTime(), 2_000_000);
    assert.equal(one.updatedAt.getTime(), 2_000_500);
    assert.equal(await store.getRepositorySummary('sum/none'), undefined);

    const first = await store.listRepositorySummaries({ limit: 1, cursor: 'sum/' });
    assert.deepEqual(first.items.map((r) => r.name), ['sum/one']);
    assert.equal(first.next, 'sum/one');
    const second = await store.listRepositorySummaries({ limit: 1, cursor: first.next });
    assert.deepEqual(second.items.map((r) => [r.name, r.artifactCount, r.tagCount]), [['sum/two', 1, 0]]);
    await assert.rejects(store.listRepositorySummaries({ limit: 1001 }), RangeError);
  });

  it('lists artifacts with tags, sizes, children, subject and times, page by page', async () => {
    clock = 3_000_000;
    const layer = digestOf('art layer');
    const img = await image('art/app', 'art image', { tag: 'latest', shared: layer });
    await store.putManifest({ ...manifestInput('art/app', 'art image'), tag: 'stable', payload: img.payload, digest: img.digest, blobRefs: img.blobRefs });
    const sig = await image('art/app', 'art sig', { subject: img.digest });
    const index = manifestInput('art/app', 'art index', { manifestRefs: [img.digest], mediaType: 'application/vnd.oci.image.index.v1+json' });
    await store.putManifest(index);

    const all = await store.listArtifacts('art/app', {});
    assert.equal(all.items.length, 3);
    assert.equal(all.next, undefined);
    assert.deepEqual(all.items.map((a) => a.digest), [img.digest, sig.digest, index.digest].sort());
    const found = all.items.find((a) => a.digest === img.digest);
    assert.ok(found);
    assert.deepEqual(found.tags, ['latest', 'stable']);
    assert.equal(found.manifestSize, img.payload.length);
    assert.equal(found.size, img.payload.length + 10 + 1000);
    assert.equal(found.pushedAt.getTime(), 3_000_000);
    assert.equal(found.pulledAt, undefined);
    assert.deepEqual((await store.getArtifact('art/app', sig.digest))?.subject, img.digest);
    assert.deepEqual((await store.getArtifact('art/app', index.digest))?.children, [img.digest]);
    assert.equal(await store.getArtifact('art/other', img.digest), undefined);

    const page1 = await store.listArtifacts('art/app', { limit: 2 });
    const page2 = await store.listArtifacts('art/app', { limit: 2, cursor: page1.next });
    assert.deepEqual([...page1.items, ...page2.items].map((a) => a.digest), all.items.map((a) => a.digest));
    assert.equal(page2.next, undefined);
    assert.deepEqual(await store.listArtifacts('art/none', {}), { items: [], next: undefined });

    const tags = await store.listTagDetails('art/app', { limit: 1 });
    assert.deepEqual(tags.items.map((t) => [t.name, t.digest]), [['latest', img.digest]]);
    assert.deepEqual((await store.listTagDetails('art/app', { cursor: tags.next })).items.map((t) => t.name), ['stable']);
  });

  it('finds every manifest that references a blob or a manifest, in all repositories', async () => {
    const layer = digestOf('refs layer');
    const one = await image('refs/one', 'refs one', { shared: layer });
    const two = await image('refs/two', 'refs two', { shared: layer });
    const byLayer = await store.listReferencing(layer, {});
    assert.deepEqual(
      byLayer.items.map((r) => [r.repository, r.digest, r.relation]).sort(),
      [['refs/one', one.digest, 'blob'], ['refs/two', two.digest, 'blob']],
    );
    const sig = await image('refs/one', 'refs sig', { subject: one.digest });
    const index = manifestInput('refs/one', 'refs index', { manifestRefs: [one.digest], mediaType: 'application/vnd.oci.image.index.v1+json' });
    await store.putManifest(index);
    const first = await store.listReferencing(one.digest, { limit: 1 });
    assert.equal(first.items.length, 1);
    const rest = await store.listReferencing(one.digest, { cursor: first.next });
    assert.deepEqual(
      [...first.items, ...rest.items].map((r) => [r.digest, r.relation]).sort(),
      [[index.digest, 'child'], [sig.digest, 'subject']].sort(),
    );
    await assert.rejects(store.listReferencing(layer, { cursor: 'bogus' }), /invalid page cursor/);
    const details = await store.getBlobDetails(layer);
    assert.deepEqual(details && { ...details, createdAt: undefined }, { digest: layer, size: 1000, createdAt: undefined, repositories: ['refs/one', 'refs/two'], referenceCount: 2 });
  });

  it('lists unreferenced blobs outside the window only, and never a referenced one', async () => {
    clock = 10_000_000;
    const old = digestOf('gc old orphan');
    await store.linkBlob('gc/app', old, 5);
    const used = digestOf('gc used');
    clock = 10_000_100;
    await image('gc/app', 'gc image', { shared: used });
    clock = 20_000_000;
    const young = digestOf('gc young orphan');
    await store.linkBlob('gc/app', young, 5);
    const relinked = digestOf('gc relinked');
    clock = 10_000_200;
    await store.linkBlob('gc/app', relinked, 5);
    clock = 20_000_000;
    // Linked again into another repository just now: a push is using it.
    await store.linkBlob('gc/other', relinked, 5);

    const window = new Date(15_000_000);
    const digests: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listUnreferencedBlobs(window, { limit: 1, cursor });
      digests.push(...page.items.map((b) => b.digest));
      cursor = page.next;
    } while (cursor !== undefined);
    assert.ok(digests.includes(old), 'an old orphan is a candidate');
    assert.ok(!digests.includes(young), 'a young orphan is not');
    assert.ok(!digests.includes(used), 'a referenced blob is not');
    assert.ok(!digests.includes(relinked), 'a blob linked inside the window is not');
    assert.equal((await store.listBlobs({ limit: 1000 })).items.filter((b) => [old, young, used, relinked].includes(b.digest)).length, 4);
  });

  it('records pulls in a batch: latest time per manifest, never backwards, unknown ones skipped', async () => {
    clock = 30_000_000;
    const a = await image('pull/app', 'pull a');
    const b = await image('pull/app', 'pull b');
    const c = await image('pull/lib', 'pull c');
    const statements: string[] = [];
    const onQuery = (q: { sql: string }) => statements.push(q.sql);
    store.knex.on('query', onQuery);
    await store.recordPulls([
      { repository: 'pull/app', digest: a.digest, at: new Date(40_000_000) },
      { repository: 'pull/app', digest: a.digest, at: new Date(41_000_000) },
      { repository: 'pull/app', digest: b.digest, at: new Date(42_000_000) },
      { repository: 'pull/lib', digest: c.digest, at: new Date(43_000_000) },
      { repository: 'pull/none', digest: c.digest, at: new Date(44_000_000) },
      // The same digest under another repository touches nothing here.
      { repository: 'pull/lib', digest: a.digest, at: new Date(45_000_000) },
    ]);
    store.knex.off('query', onQuery);
    assert.equal(statements.length, 1, `one statement for the batch, got: ${statements.join('; ')}`);
    const pulled = async (repo: string, digest: Digest) => (await store.getArtifact(repo, digest))?.pulledAt?.getTime();
    assert.equal(await pulled('pull/app', a.digest), 41_000_000);
    assert.equal(await pulled('pull/app', b.digest), 42_000_000);
    assert.equal(await pulled('pull/lib', c.digest), 43_000_000);
    // An older batch arriving late does not move a time backwards.
    await store.recordPulls([{ repository: 'pull/app', digest: a.digest, at: new Date(39_000_000) }]);
    assert.equal(await pulled('pull/app', a.digest), 41_000_000);
    await store.recordPulls([]);
    // A batch above one statement's rows.
    const many = Array.from({ length: 700 }, (_, i) => ({ repository: 'pull/app', digest: i === 650 ? b.digest : digestOf(`pull none ${i}`), at: new Date(50_000_000 + i) }));
    await store.recordPulls(many);
    assert.equal(await pulled('pull/app', b.digest), 50_000_650);
  });
});
