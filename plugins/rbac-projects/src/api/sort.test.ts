import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { forEachDatabase } from '@wharf/sdk-testing';
import { ADMIN_PASSWORD, assertError, basic, bootWithUsers, call, type Booted } from '../test-support.js';

/**
 * `sort=` on the plugin's lists (projects, members, user groups, project and system robots):
 * the database orders the whole list, so a page continues where the previous one stopped;
 * ties break on id; an unknown field is a 400 naming the allowed ones.
 */

const PROJECTS = Array.from({ length: 12 }, (_, i) => `p${String(i).padStart(2, '0')}`);

forEachDatabase((_name, create) => {
  let booted: Booted;
  let url: string;
  const admin = basic('admin', ADMIN_PASSWORD);
  const get = async (path: string) => {
    const res = await call(url, 'GET', `/api/v1${path}`, { auth: admin });
    assert.equal(res.status, 200, res.text);
    return res.body as Record<string, unknown>[];
  };
  const names = async (path: string) => (await get(path)).map((item) => item.name as string);
  const post = async (path: string, body: unknown) => {
    const res = await call(url, 'POST', `/api/v1${path}`, { auth: admin, body });
    assert.equal(res.status, 201, res.text);
  };

  before(async () => {
    booted = await bootWithUsers(await create());
    url = booted.url;
  });
  after(() => booted?.close());

  describe('sort=', () => {
    it('orders projects across pages by name, createdAt and updatedAt', async () => {
      // Created out of name order, so creation order and name order differ.
      for (const name of [...PROJECTS].reverse()) await post('/projects', { name });
      const all = ['library', ...PROJECTS].sort();
      assert.deepEqual(await names('/projects?sort=-name&page_size=10'), [...all].reverse().slice(0, 10));
      assert.deepEqual(await names('/projects?sort=-name&page_size=10&page=2'), [...all].reverse().slice(10));
      assert.deepEqual(await names('/projects?sort=name&page_size=5'), all.slice(0, 5));
      const byCreation = await get('/projects?sort=-createdAt&page_size=100');
      const times = byCreation.map((p) => Date.parse(p.createdAt as string));
      assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');
      for (let i = 1; i < byCreation.length; i++) {
        if (times[i] === times[i - 1]) assert.ok((byCreation[i] as { id: number }).id > (byCreation[i - 1] as { id: number }).id, 'ties break on id');
      }
      assert.equal(byCreation.at(-1)?.name, 'library', 'the default project is the oldest');
      const updated = await call(url, 'PUT', '/api/v1/projects/p05', { auth: admin, body: { public: true } });
      assert.equal(updated.status, 200, updated.text);
      assert.equal((await names('/projects?sort=-updatedAt&page_size=1'))[0], 'p05');
      assertError(await call(url, 'GET', '/api/v1/projects?sort=owner', { auth: admin }), 400, 'BAD_REQUEST', /unknown field "owner" \(this operation sorts by name, createdAt, updatedAt/);
    });

    it('orders members by role, kind and name', async () => {
      for (const [username, roleId] of [['zed', 3], ['amy', 2], ['kim', 1]] as const) await post('/projects/p01/members', { memberUser: { username }, roleId });
      const members = await get('/projects/p01/members?sort=roleId,-name&page_size=100');
      assert.deepEqual(members.map((m) => `${m.name}:${m.roleId}`), ['kim:1', 'admin:1', 'amy:2', 'zed:3']);
      assert.deepEqual(await names('/projects/p01/members?sort=-name&page_size=2&page=2'), ['amy', 'admin']);
      assertError(await call(url, 'GET', '/api/v1/projects/p01/members?sort=role', { auth: admin }), 400, 'BAD_REQUEST', /unknown field "role" \(this operation sorts by name, kind, roleId, createdAt/);
    });

    it('orders user groups and robots by name, both ways', async () => {
      for (const name of ['ops', 'dev', 'qa']) await post('/usergroups', { name, type: 'local' });
      assert.deepEqual(await names('/usergroups?sort=-name'), ['qa', 'ops', 'dev']);
      assert.deepEqual(await names('/usergroups?sort=name&page_size=2&page=2'), ['qa']);
      assertError(await call(url, 'GET', '/api/v1/usergroups?sort=members', { auth: admin }), 400, 'BAD_REQUEST', /sorts by name, type, createdAt/);

      const pull = [{ resource: 'repository', action: 'pull' }];
      for (const name of ['b', 'c', 'a']) await post('/projects/p02/robots', { name, permissions: [{ kind: 'project', namespace: 'p02', access: pull }] });
      assert.deepEqual(await names('/projects/p02/robots?sort=-name'), ['robot$p02+c', 'robot$p02+b', 'robot$p02+a']);
      assert.deepEqual(await names('/projects/p02/robots?sort=name&page_size=2&page=2'), ['robot$p02+c']);
      for (const name of ['y', 'x']) await post('/robots', { name, permissions: [{ kind: 'project', namespace: '*', access: pull }] });
      assert.deepEqual(await names('/robots?sort=name'), ['robot$x', 'robot$y']);
      assert.deepEqual(await names('/robots?sort=-name'), ['robot$y', 'robot$x']);
      assertError(await call(url, 'GET', '/api/v1/robots?sort=secret', { auth: admin }), 400, 'BAD_REQUEST', /sorts by name, createdAt, updatedAt/);
      assertError(await call(url, 'GET', '/api/v1/projects/p02/robots?sort=-', { auth: admin }), 400, 'BAD_REQUEST', /not a field/);
      // q=name=~ filters robots by name, as it does members and projects.
      for (const name of ['build-arm', 'build-x86', 'deploy']) await post('/projects/p03/robots', { name, permissions: [{ kind: 'project', namespace: 'p03', access: pull }] });
      assert.deepEqual(await names('/projects/p03/robots?q=name%3D~build&sort=name'), ['robot$p03+build-arm', 'robot$p03+build-x86']);
      assert.deepEqual(await names('/projects/p03/robots?q=name%3D~nothing'), []);
      assert.deepEqual(await names('/robots?q=name%3D~y'), ['robot$y']);
    });
  });
});
