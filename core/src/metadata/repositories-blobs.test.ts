import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { MetadataStore } from './types.js';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { digestOf, openStore } from './test-support.js';

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

  it('lists repositories byte-wise, page by page', async () => {
    // Punctuation sorts by byte value here ('-' < '.' < '/' < '_' < letters), unlike locale collations.
    const names = ['cat/ab', 'cat/a_b', 'cat/a-b', 'cat/a.b', 'cat/a/b', 'cat/a', 'cat/b0', 'cat/a9'];
    for (const [i, name] of names.entries()) await store.linkBlob(name, digestOf(`blob ${i}`), i);
    const expected = [...names].sort();
    const all = (await store.listRepositories({ n: 1000, last: 'cat' })).filter((n) => n.startsWith('cat/'));
    assert.deepEqual(all, expected);
    const pages: string[][] = [];
    let last: string | undefined = 'cat/';
    for (;;) {
      const page: string[] = await store.listRepositories({ n: 3, last });
      if (page.length === 0) break;
      assert.ok(page.length <= 3);
      pages.push(page);
      last = page.at(-1);
    }
    assert.deepEqual(pages.flat().filter((n) => n.startsWith('cat/')), expected);
    assert.deepEqual(pages[0], expected.slice(0, 3));
    assert.deepEqual(await store.listRepositories({ n: 0, last: undefined }), []);
    assert.deepEqual(await store.listRepositories({ n: 2, last: 'cat/a9' }), ['cat/a_b', 'cat/ab']);
  });

  it('knows which repositories exist', async () => {
    assert.equal(await store.repositoryExists('exists/not-yet'), false);
    await store.linkBlob('exists/not-yet', digestOf('x'), 1);
    assert.equal(await store.repositoryExists('exists/not-yet'), true);
    assert.equal(await other.repositoryExists('exists/not-yet'), true);
  });

  it('links, finds and unlinks blobs per repository', async () => {
    const digest = digestOf('layer');
    await store.linkBlob('link/one', digest, 5);
    await store.linkBlob('link/one', digest, 5); // idempotent
    assert.deepEqual(await store.getLinkedBlob('link/one', digest), { size: 5 });
    assert.equal(await store.getLinkedBlob('link/two', digest), undefined);
    assert.deepEqual(await store.getBlob(digest), { size: 5 });
    await store.linkBlob('link/two', digest, 5);
    assert.equal(await store.unlinkBlob('link/one', digest), true);
    assert.equal(await store.unlinkBlob('link/one', digest), false);
    assert.equal(await store.getLinkedBlob('link/one', digest), undefined);
    assert.deepEqual(await store.getBlob(digest), { size: 5 }, 'still linked to link/two');
    assert.equal(await store.unlinkBlob('link/two', digest), true);
    assert.equal(await store.getBlob(digest), undefined, 'no repository links it any more');
    assert.equal(await store.unlinkBlob('link/never', digest), false);
    assert.equal(await store.getBlob(digestOf('never stored')), undefined);
  });

  it('stores sizes beyond 32 bits and sha512 digests', async () => {
    const big = 5 * 1024 ** 3 + 7;
    const digest = digestOf('huge', 'sha512');
    assert.equal(digest.length, 7 + 128);
    await store.linkBlob('sizes/big', digest, big);
    assert.deepEqual(await store.getLinkedBlob('sizes/big', digest), { size: big });
    assert.deepEqual(await other.getBlob(digest), { size: big });
  });

  it('links the same blob from two stores at once', async () => {
    const digest = digestOf('raced');
    const runs = [store, other, store, other].map((s, i) => s.linkBlob(`race/r${i % 2}`, digest, 9));
    await Promise.all(runs);
    assert.deepEqual(await store.getLinkedBlob('race/r0', digest), { size: 9 });
    assert.deepEqual(await store.getLinkedBlob('race/r1', digest), { size: 9 });
  });

  it('refuses names longer than the columns hold', async () => {
    await assert.rejects(store.linkBlob(`long/${'a'.repeat(251)}`, digestOf('l'), 1), RangeError);
    assert.equal(await store.repositoryExists(`long/${'a'.repeat(251)}`), false);
  });

  it('lists the repositories of a namespace: any depth, byte-wise, paged, with the total', async () => {
    const inside = ['team/app', 'team/a_b', 'team/a-b', 'team/deep/er/one', 'team/z', 'team/a%b'];
    // Neighbours a naive `LIKE 'team%'`, an unescaped `_` or a case-insensitive match would take.
    const outside = ['team', 'team2/x', 'teams/x', 'teamXa/x', 'tea_/x', 'TEAM/upper', 'other/team/x', 'team-x/y'];
    for (const [i, name] of [...inside, ...outside].entries()) await store.linkBlob(name, digestOf(`ns ${i}`), 1);
    const expected = [...inside].sort();
    const all = await store.listNamespaceRepositories('team', { page: 1, pageSize: 100 });
    assert.deepEqual(all, { items: expected, total: inside.length });
    const pages = [];
    for (let page = 1; page <= 3; page++) pages.push(await store.listNamespaceRepositories('team', { page, pageSize: 4 }));
    assert.deepEqual(pages.map((p) => p.items), [expected.slice(0, 4), expected.slice(4), []]);
    assert.ok(pages.every((p) => p.total === inside.length));
    // A wildcard in the namespace itself is literal.
    assert.deepEqual(await other.listNamespaceRepositories('tea_', { page: 1, pageSize: 10 }), { items: ['tea_/x'], total: 1 });
    assert.deepEqual(await store.listNamespaceRepositories('te%', { page: 1, pageSize: 10 }), { items: [], total: 0 });
    assert.deepEqual(await store.listNamespaceRepositories('team/deep', { page: 1, pageSize: 10 }), { items: ['team/deep/er/one'], total: 1 });
    assert.deepEqual(await store.listNamespaceRepositories('nobody', { page: 1, pageSize: 10 }), { items: [], total: 0 });
  });

  it('refuses a bad namespace or page instead of guessing', async () => {
    await assert.rejects(store.listNamespaceRepositories('', { page: 1, pageSize: 10 }), RangeError);
    await assert.rejects(store.listNamespaceRepositories('team/', { page: 1, pageSize: 10 }), RangeError);
    await assert.rejects(store.listNamespaceRepositories('team', { page: 0, pageSize: 10 }), RangeError);
    await assert.rejects(store.listNamespaceRepositories('team', { page: 1, pageSize: 0 }), RangeError);
    await assert.rejects(store.listNamespaceRepositories('team', { page: 1, pageSize: 1001 }), RangeError);
  });
});
