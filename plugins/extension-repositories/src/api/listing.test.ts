import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { forEachDatabase, pushImage, tinyImage, type TestRegistry } from '@wharf/sdk-testing';
import { ADMIN_PASSWORD, basic, bootRegistry, call } from '../test-support.js';

/**
 * The listing queries on each database (`WHARF_TEST_DATABASES`): a project's repositories
 * paged, searched (the `LIKE` with its escapes and the namespace range) and counted, a
 * repository's artifacts paged newest first, and a repository delete that takes the project's
 * count down. Access decisions are tested once, on SQLite, in `api.test.ts`.
 */

forEachDatabase((_name, create) => {
  let registry: TestRegistry;
  const admin = basic('admin', ADMIN_PASSWORD);
  const api = (method: string, path: string) => call(registry.url, method, `/api/v1${path}`, { auth: admin });
  const names = (res: { body: { name: string }[] }) => res.body.map((r) => r.name);
  const pushed: string[] = [];

  before(async () => {
    registry = await bootRegistry(await create());
    for (const project of ['team', 'team-b', 'teams']) assert.equal((await call(registry.url, 'POST', '/api/v1/projects', { auth: admin, body: { name: project } })).status, 201);
    const push = async (repository: string, tag: string, text: string) => {
      const { digest } = await pushImage(registry.url, repository, tag, tinyImage({ text }), { authorization: admin });
      return digest;
    };
    // Neighbours of `team/` in byte order (`team-b/`, `teams/`) must never leak into its listing.
    for (const name of ['team-b/app', 'teams/app']) await push(name, 'v1', name);
    for (const name of ['team/web_ui', 'team/webxui', 'team/api', 'team/a/b/c']) await push(name, 'v1', name);
    for (const tag of ['v1', 'v2', 'v3']) pushed.push(await push('team/api', tag, `api ${tag}`));
  });
  after(() => registry?.close());

  it('lists, pages, counts and searches a project\'s repositories', async () => {
    const all = await api('GET', '/projects/team/repositories');
    assert.deepEqual(names(all), ['team/a/b/c', 'team/api', 'team/web_ui', 'team/webxui']);
    assert.equal(all.headers.get('x-total-count'), '4');
    const api_ = all.body[1];
    assert.equal(api_.artifactCount, 4, 'the image pushed as v1 first, and three more');
    assert.equal(api_.tagCount, 3);
    assert.ok(api_.size > 0);
    const page = await api('GET', '/projects/team/repositories?page=2&page_size=3');
    assert.deepEqual(names(page), ['team/webxui']);
    assert.equal(page.headers.get('x-total-count'), '4');
    assert.deepEqual(names(await api('GET', '/projects/team/repositories?page=3&page_size=3')), []);
    assert.deepEqual(names(await api('GET', '/projects/team/repositories?q=name%3D~web_')), ['team/web_ui'], '_ is literal');
    assert.deepEqual(names(await api('GET', '/projects/team/repositories?q=name%3D~B%2FC')), ['team/a/b/c']);
    assert.deepEqual(names(await api('GET', '/projects/team/repositories?q=name%3D~team')), [], 'the search is on the name inside the project');
    assert.deepEqual(names(await api('GET', '/projects/teams/repositories')), ['teams/app']);
  });

  it('sorts a project\'s repositories across pages by name, artifact count and last update', async () => {
    assert.deepEqual(names(await api('GET', '/projects/team/repositories?sort=-name&page_size=3')), ['team/webxui', 'team/web_ui', 'team/api']);
    assert.deepEqual(names(await api('GET', '/projects/team/repositories?sort=-name&page_size=3&page=2')), ['team/a/b/c']);
    assert.deepEqual(names(await api('GET', '/projects/team/repositories?sort=-artifactCount,name')), ['team/api', 'team/a/b/c', 'team/web_ui', 'team/webxui']);
    assert.deepEqual(names(await api('GET', '/projects/team/repositories?sort=artifactCount,-name&page_size=2&page=2')), ['team/a/b/c', 'team/api']);
    assert.deepEqual(names(await api('GET', '/projects/team/repositories?sort=-updatedAt&page_size=1')), ['team/api'], 'pushed last');
    assert.deepEqual(names(await api('GET', '/projects/team/repositories?sort=-tagCount&page_size=1&q=name%3D~a')), ['team/api']);
    const refused = await api('GET', '/projects/team/repositories?sort=size');
    assert.equal(refused.status, 400, refused.text);
    assert.match(refused.body.errors[0].message, /unknown field "size" \(this operation sorts by name, artifactCount, tagCount, createdAt, updatedAt/);
  });

  it('pages a repository\'s artifacts newest first', async () => {
    const first = await api('GET', '/projects/team/repositories/api/artifacts?page_size=2');
    assert.equal(first.headers.get('x-total-count'), '4');
    assert.deepEqual(first.body.map((a: { digest: string; tags: string[] }) => [a.digest, a.tags]), [[pushed[2], ['v3']], [pushed[1], ['v2']]]);
    const second = await api('GET', '/projects/team/repositories/api/artifacts?page=2&page_size=2');
    assert.deepEqual(second.body.map((a: { digest: string; tags: string[] }) => a.tags), [['v1'], []]);
  });

  it('deletes a repository: the project lists one fewer, its neighbours keep theirs', async () => {
    assert.equal((await api('DELETE', '/projects/team/repositories/a%2Fb%2Fc')).status, 204);
    assert.equal((await api('DELETE', '/projects/team/repositories/api')).status, 204);
    const left = await api('GET', '/projects/team/repositories');
    assert.deepEqual(names(left), ['team/web_ui', 'team/webxui']);
    assert.deepEqual((await api('GET', '/projects/team/repositories/api/artifacts')).body, []);
    assert.deepEqual(names(await api('GET', '/projects/team-b/repositories')), ['team-b/app']);
    for (const name of ['web_ui', 'webxui']) assert.equal((await api('DELETE', `/projects/team/repositories/${name}`)).status, 204);
    assert.equal((await api('DELETE', '/projects/team')).status, 204, 'an emptied project can be deleted');
  });
});
