import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { forEachDatabase, pushImage, tinyImage, type TestRegistry } from '@wharf/sdk-testing';
import { ADMIN_PASSWORD, assertError, basic, bootRegistry, call } from '../test-support.js';

/**
 * The registry-wide search (`listSearchResults`) and a repository's tag rows (`listTags`) on each
 * database (`WHARF_TEST_DATABASES`): what a member, a non-member, an anonymous caller and an
 * administrator find (a private project's repositories, tags and digests stay hidden from
 * non-members), digest prefixes, the bound per kind; tags sorted version-aware on the server.
 */
forEachDatabase((_name, create) => {
  let registry: TestRegistry;
  const admin = basic('admin', ADMIN_PASSWORD);
  const alice = basic('alice', 'Member-Pass-1');
  const olaf = basic('olaf', 'Member-Pass-1');
  const api = (path: string, auth?: string) => call(registry.url, 'GET', `/api/v1${path}`, auth === undefined ? {} : { auth });
  const search = (q: string, auth?: string, extra = '') => api(`/search?q=${encodeURIComponent(q)}${extra}`, auth);
  let secretDigest = '';

  before(async () => {
    registry = await bootRegistry(await create());
    for (const username of ['alice', 'olaf']) assert.equal((await call(registry.url, 'POST', '/api/v1/users', { auth: admin, body: { username, password: 'Member-Pass-1' } })).status, 201);
    assert.equal((await call(registry.url, 'POST', '/api/v1/projects', { auth: alice, body: { name: 'secretteam' } })).status, 201);
    assert.equal((await call(registry.url, 'POST', '/api/v1/projects', { auth: alice, body: { name: 'opensource', public: true } })).status, 201);
    for (const tag of ['v1.9', 'v1.10', 'v1.2']) {
      const { digest } = await pushImage(registry.url, 'secretteam/app', tag, tinyImage({ text: `app ${tag}\n` }), { authorization: alice });
      if (tag === 'v1.10') secretDigest = digest;
    }
    await pushImage(registry.url, 'opensource/app-pub', 'stable', tinyImage({ text: 'pub\n' }), { authorization: alice });
  });
  after(() => registry?.close());

  it('finds projects, repositories, tags and digest prefixes a member may see', async () => {
    const res = await search('app', alice);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.repositories, [{ name: 'opensource/app-pub', project: 'opensource' }, { name: 'secretteam/app', project: 'secretteam' }]);
    assert.deepEqual((await search('SECRET', alice)).body.projects, [{ name: 'secretteam', public: false }], 'case-insensitive');
    const tags = (await search('v1.1', alice)).body.tags;
    assert.deepEqual(tags, [{ repository: 'secretteam/app', project: 'secretteam', tag: 'v1.10', digest: secretDigest }]);
    const hex = secretDigest.slice('sha256:'.length, 'sha256:'.length + 10);
    for (const q of [hex, `sha256:${hex}`]) assert.deepEqual((await search(q, alice)).body.digests.map((d: { repository: string; digest: string }) => [d.repository, d.digest]), [['secretteam/app', secretDigest]]);
    assert.deepEqual((await search(hex.slice(0, 3), alice)).body.digests, [], 'a digest prefix needs 4 hex digits');
  });

  it('hides a private project and its content from non-members and anonymous callers; administrators see all', async () => {
    const hex = secretDigest.slice('sha256:'.length, 'sha256:'.length + 10);
    for (const who of [olaf, undefined]) {
      const byName = await search('app', who);
      assert.equal(byName.status, 200, byName.text);
      assert.deepEqual(byName.body.repositories.map((r: { name: string }) => r.name), ['opensource/app-pub']);
      assert.deepEqual((await search('secret', who)).body.projects, []);
      assert.deepEqual((await search('v1.1', who)).body.tags, []);
      assert.deepEqual((await search(hex, who)).body.digests, []);
      assert.deepEqual((await search('stable', who)).body.tags.map((t: { repository: string }) => t.repository), ['opensource/app-pub']);
    }
    assert.deepEqual((await search(hex, admin)).body.digests.map((d: { digest: string }) => d.digest), [secretDigest]);
    assert.deepEqual((await search('team', admin)).body.projects.map((p: { name: string }) => p.name), ['secretteam']);
  });

  it('bounds each kind by limit and refuses a blank query', async () => {
    const one = await search('v1', alice, '&limit=1');
    assert.deepEqual(one.body.tags.map((t: { tag: string }) => t.tag), ['v1.10'], 'byte order in the database, one row');
    assert.equal((await search('a', alice, '&limit=1')).body.repositories.length, 1);
    assertError(await search(' ', alice), 400, 'BAD_REQUEST');
    assertError(await api('/search', alice), 400, 'BAD_REQUEST');
    assertError(await search('a', alice, '&limit=500'), 400, 'BAD_REQUEST');
    assert.equal((await search('%', alice)).body.repositories.length, 0, 'LIKE wildcards match literally');
  });

  it('lists tags sorted version-aware on the server, filtered and paged; non-members get 403', async () => {
    const tags = (sort: string, extra = '') => api(`/projects/secretteam/repositories/app/tags?sort=${sort}${extra}`, alice);
    const byName = await tags('name');
    assert.equal(byName.status, 200, byName.text);
    assert.deepEqual(byName.body.map((t: { name: string }) => t.name), ['v1.2', 'v1.9', 'v1.10']);
    assert.deepEqual((await tags('-name')).body.map((t: { name: string }) => t.name), ['v1.10', 'v1.9', 'v1.2']);
    assert.deepEqual((await tags('-pushed')).body.map((t: { name: string }) => t.name), ['v1.2', 'v1.10', 'v1.9'], 'newest push first');
    const page = await tags('name', '&page=2&page_size=2');
    assert.deepEqual(page.body.map((t: { name: string }) => t.name), ['v1.10']);
    assert.equal(page.headers.get('x-total-count'), '3');
    const row = (await tags('name', '&q=name%3D~1.10')).body;
    assert.equal(row.length, 1);
    assert.equal(row[0].digest, secretDigest);
    assert.equal(row[0].referrerCount, 0);
    assert.ok(row[0].size > 0);
    assertError(await tags('size'), 400, 'BAD_REQUEST');
    assertError(await api('/projects/secretteam/repositories/app/tags', olaf), 403, 'FORBIDDEN');
  });
});
