import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { forEachDatabase } from '@wharf/sdk-testing';
import { definePlugin, RegistryError, Type, type Principal } from '@wharf/sdk';
import { ADMIN_PASSWORD, assertError, basic, bootWithUsers, call, grantedAccess, type Booted } from '../test-support.js';

/**
 * The plugin's `/api/v1` operations over real HTTP, with the db auth plugin for users: each
 * operation allowed and denied per role (Project Admin, Maintainer, Developer, Guest, Limited
 * Guest, non-member, anonymous, administrator), and the 404, 409 and 412 answers.
 */

/** Stands in for LDAP: `carl` logs in as a member of the group `qa`. */
const directory = definePlugin({
  id: 'directory',
  kind: 'auth',
  version: '0.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    ctx.hooks.auth.authenticate.tapPromise(ctx.id, async (credentials): Promise<Principal | undefined> => {
      if (credentials.kind !== 'basic' || credentials.username !== 'carl') return undefined;
      if (credentials.password !== 'carl-pw') throw new RegistryError('UNAUTHORIZED', 'invalid username or password');
      return { subject: 'carl', kind: 'user', provider: ctx.id, groups: ['qa'], admin: false };
    });
  },
});

const PASSWORD = 'Member-Pass-1';
const USERS = ['alice', 'mona', 'bob', 'gina', 'lee', 'olaf'] as const;

/** A one-blob image pushed with Basic credentials (a monolithic upload and a manifest PUT). */
async function pushImage(url: string, auth: string, repository: string): Promise<void> {
  const config = Buffer.from('{}');
  const digest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
  const blob = await fetch(`${url}/v2/${repository}/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/octet-stream' }, body: config });
  assert.equal(blob.status, 201, await blob.text());
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest, size: config.length },
    layers: [],
  });
  const put = await fetch(`${url}/v2/${repository}/manifests/v1`, { method: 'PUT', headers: { authorization: auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest });
  assert.equal(put.status, 201, await put.text());
}

forEachDatabase((_name, create) => {
  let booted: Booted;
  let url: string;
  const admin = basic('admin', ADMIN_PASSWORD);
  const as: Record<string, string> = {};
  const api = (method: string, path: string, auth?: string, body?: unknown) => call(url, method, `/api/v1${path}`, { ...(auth ? { auth } : {}), ...(body === undefined ? {} : { body }) });

  before(async () => {
    booted = await bootWithUsers(await create(), {}, { plugins: [directory], overrides: { auth: [{ directory: {} }, { db: {} }], token: { credentialCacheSeconds: 0, activeCacheSeconds: 0 } } });
    url = booted.url;
    for (const name of USERS) {
      const res = await api('POST', '/users', admin, { username: name, password: PASSWORD });
      assert.equal(res.status, 201, res.text);
      as[name] = basic(name, PASSWORD);
    }
    as.carl = basic('carl', 'carl-pw');
  });
  after(() => booted?.close());

  describe('projects', () => {
    it('lets a logged-in user create a project and become its Project Admin', async () => {
      const res = await api('POST', '/projects', as.alice, { name: 'team' });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.headers.get('location'), '/api/v1/projects/team');
      assert.equal(res.body.name, 'team');
      assert.equal(res.body.public, false);
      assert.equal(res.body.owner, 'alice');
      assert.equal(res.body.currentUserRole, 'projectAdmin');
      assertError(await api('POST', '/projects', as.bob, { name: 'team' }), 409, 'CONFLICT', /already exists/);
      assertError(await api('POST', '/projects', as.bob, { name: 'Bad+Name' }), 400, 'BAD_REQUEST', /not a valid project name/);
      assertError(await api('POST', '/projects', as.bob, { name: 'x', extra: 1 }), 400, 'BAD_REQUEST');
      assertError(await api('POST', '/projects', undefined, { name: 'anon' }), 401, 'UNAUTHORIZED');
      assert.equal((await api('POST', '/projects', as.olaf, { name: 'scratch' })).status, 201);
    });

    it('adds the team members, by role id or name', async () => {
      const add = async (username: string, role: Record<string, unknown>) => {
        const res = await api('POST', '/projects/team/members', as.alice, { memberUser: { username }, ...role });
        assert.equal(res.status, 201, res.text);
        return res;
      };
      await add('mona', { roleId: 4 });
      const bob = await add('bob', { roleName: 'developer' });
      assert.equal(bob.body.roleId, 2);
      assert.match(bob.headers.get('location') ?? '', /^\/api\/v1\/projects\/team\/members\/\d+$/);
      await add('gina', { roleId: 3 });
      await add('lee', { roleName: 'limitedGuest' });
    });

    it('shows a project to its members and to administrators; others get 403, anonymous 401', async () => {
      for (const who of ['alice', 'mona', 'bob', 'gina', 'lee']) assert.equal((await api('GET', '/projects/team', as[who])).status, 200, who);
      assert.equal((await api('GET', '/projects/team', as.bob)).body.currentUserRole, 'developer');
      assert.equal((await api('GET', '/projects/team', admin)).status, 200);
      assertError(await api('GET', '/projects/team', as.olaf), 403, 'FORBIDDEN');
      assertError(await api('GET', '/projects/team', undefined), 401, 'UNAUTHORIZED');
      assertError(await api('GET', '/projects/nope', admin), 404, 'NOT_FOUND');
      assert.equal((await api('GET', '/projects/library', undefined)).status, 200, 'public projects are open to anonymous callers');
    });

    it('lists public projects and the caller\'s own; administrators see all; name and public filters', async () => {
      const names = async (auth: string | undefined, query = '') => {
        const res = await api('GET', `/projects${query}`, auth);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.headers.get('x-total-count'), String(res.body.length));
        return (res.body as { name: string }[]).map((p) => p.name);
      };
      assert.deepEqual(await names(undefined), ['library']);
      assert.deepEqual(await names(as.bob), ['library', 'team']);
      assert.deepEqual(await names(as.olaf), ['library', 'scratch']);
      assert.deepEqual(await names(admin), ['library', 'scratch', 'team']);
      assert.deepEqual(await names(admin, '?q=name%3D~tea'), ['team']);
      assert.deepEqual(await names(admin, '?q=public%3Dtrue'), ['library']);
      assertError(await api('GET', '/projects?q=public%3Dmaybe', admin), 400, 'BAD_REQUEST');
    });

    it('lets only the Project Admin (and administrators) change visibility', async () => {
      for (const who of ['alice', 'mona', 'bob', 'gina']) assertError(await api('PUT', '/projects/scratch', as[who], { public: true }), 403, 'FORBIDDEN');
      for (const who of ['mona', 'bob']) assertError(await api('PUT', '/projects/team', as[who], { public: true }), 403, 'FORBIDDEN');
      const res = await api('PUT', '/projects/scratch', as.olaf, { public: true });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.public, true);
      assert.equal((await api('GET', '/projects/scratch', undefined)).status, 200);
      assert.equal((await api('PUT', '/projects/scratch', admin, { public: false })).body.public, false);
      assertError(await api('GET', '/projects/scratch', undefined), 401, 'UNAUTHORIZED');
    });

    it('refuses to delete a project holding repositories (412); an empty one goes with its members and robots', async () => {
      await pushImage(url, as.bob!, 'team/app');
      for (const who of ['mona', 'bob']) assertError(await api('DELETE', '/projects/team', as[who]), 403, 'FORBIDDEN');
      assertError(await api('DELETE', '/projects/team', as.alice), 412, 'PRECONDITION_FAILED', /holds 1 repository: delete/);
      assert.equal((await api('POST', '/projects/scratch/robots', as.olaf, { name: 'ci', permissions: [{ kind: 'project', namespace: 'scratch', access: [{ resource: 'repository', action: 'pull' }] }] })).status, 201);
      assert.equal((await api('DELETE', '/projects/scratch', as.olaf)).status, 204);
      assertError(await api('GET', '/projects/scratch', admin), 404, 'NOT_FOUND');
      assertError(await api('DELETE', '/projects/scratch', admin), 404, 'NOT_FOUND');
      // Created again, it is empty and its old robot is gone.
      assert.equal((await api('POST', '/projects', as.bob, { name: 'scratch' })).status, 201);
      assert.deepEqual((await api('GET', '/projects/scratch/robots', as.bob)).body, []);
      assert.deepEqual((await api('GET', '/projects/scratch/members', as.bob)).body.map((m: { name: string }) => m.name), ['bob']);
    });
  });

  describe('members', () => {
    it('are listed to every role but Limited Guest, and managed by the Project Admin only', async () => {
      for (const who of ['alice', 'mona', 'bob', 'gina']) assert.equal((await api('GET', '/projects/team/members', as[who])).status, 200, who);
      assertError(await api('GET', '/projects/team/members', as.lee), 403, 'FORBIDDEN');
      assertError(await api('GET', '/projects/team/members', as.olaf), 403, 'FORBIDDEN');
      const list = await api('GET', '/projects/team/members?q=name%3Dbob', as.gina);
      assert.deepEqual(list.body.map((m: { name: string; roleName: string }) => [m.name, m.roleName]), [['bob', 'developer']]);
      for (const who of ['mona', 'bob', 'gina']) assertError(await api('POST', '/projects/team/members', as[who], { memberUser: { username: 'olaf' }, roleId: 3 }), 403, 'FORBIDDEN');
    });

    it('are users of any provider or existing groups; the group role applies to its members', async () => {
      // A user who never logged in is accepted (LDAP users appear on their first login).
      assert.equal((await api('POST', '/projects/team/members', as.alice, { memberUser: { username: 'future.user' }, roleId: 3 })).status, 201);
      assertError(await api('POST', '/projects/team/members', as.alice, { memberGroup: { groupName: 'qa' }, roleId: 3 }), 404, 'NOT_FOUND', /usergroups/);
      assertError(await api('GET', '/projects/team', as.carl), 403, 'FORBIDDEN');
      assert.equal((await api('POST', '/usergroups', admin, { name: 'qa', type: 'ldap', externalId: 'cn=qa,ou=groups,dc=example,dc=org' })).status, 201);
      assert.equal((await api('POST', '/projects/team/members', as.alice, { memberGroup: { groupName: 'qa' }, roleId: 3 })).status, 201);
      assert.equal((await api('GET', '/projects/team', as.carl)).body.currentUserRole, 'guest');
      assert.deepEqual((await grantedAccess(url, as.carl!, 'repository:team/app:pull,push')).access, [{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    });

    it('refuse bad bodies, duplicates and unknown members', async () => {
      assertError(await api('POST', '/projects/team/members', as.alice, { memberUser: { username: 'bob' }, roleId: 3 }), 409, 'CONFLICT');
      assertError(await api('POST', '/projects/team/members', as.alice, { memberUser: { username: 'x' }, roleId: 9 }), 400, 'BAD_REQUEST');
      assertError(await api('POST', '/projects/team/members', as.alice, { memberUser: { username: 'x' }, roleName: 'owner' }), 400, 'BAD_REQUEST');
      assertError(await api('POST', '/projects/team/members', as.alice, { memberUser: { username: 'x' } }), 400, 'BAD_REQUEST', /roleId and roleName/);
      assertError(await api('POST', '/projects/team/members', as.alice, { memberUser: { username: 'x' }, memberGroup: { groupName: 'qa' }, roleId: 2 }), 400, 'BAD_REQUEST', /exactly one/);
      assertError(await api('GET', '/projects/team/members/999999', as.alice), 404, 'NOT_FOUND');
      assertError(await api('GET', '/projects/team/members/abc', as.alice), 400, 'BAD_REQUEST');
      assertError(await api('GET', '/projects/nope/members', admin), 404, 'NOT_FOUND');
    });

    it('change role and leave; a member id of another project is not found here', async () => {
      const added = await api('POST', '/projects/team/members', as.alice, { memberUser: { username: 'olaf' }, roleId: 5 });
      const id = added.body.id as number;
      assertError(await api('PUT', `/projects/team/members/${id}`, as.bob, { roleId: 1 }), 403, 'FORBIDDEN');
      const changed = await api('PUT', `/projects/team/members/${id}`, as.alice, { roleName: 'developer' });
      assert.equal(changed.status, 200, changed.text);
      assert.equal(changed.body.roleId, 2);
      assert.equal((await api('GET', `/projects/team/members/${id}`, as.gina)).body.roleName, 'developer');
      assert.deepEqual((await grantedAccess(url, as.olaf!, 'repository:team/app:push')).access, [{ type: 'repository', name: 'team/app', actions: ['push'] }]);
      assertError(await api('GET', `/projects/scratch/members/${id}`, as.bob), 404, 'NOT_FOUND');
      assertError(await api('DELETE', `/projects/team/members/${id}`, as.mona), 403, 'FORBIDDEN');
      assert.equal((await api('DELETE', `/projects/team/members/${id}`, as.alice)).status, 204);
      assertError(await api('GET', `/projects/team/members/${id}`, as.alice), 404, 'NOT_FOUND');
      assert.deepEqual((await grantedAccess(url, as.olaf!, 'repository:team/app:pull')).access, []);
    });
  });

  describe('user groups', () => {
    it('are for administrators only', async () => {
      for (const auth of [as.alice, as.bob]) {
        assertError(await api('GET', '/usergroups', auth), 403, 'FORBIDDEN');
        assertError(await api('POST', '/usergroups', auth, { name: 'x' }), 403, 'FORBIDDEN');
      }
      assertError(await api('GET', '/usergroups', undefined), 401, 'UNAUTHORIZED');
    });

    it('are created, found, renamed (memberships follow) and deleted (memberships go)', async () => {
      const created = await api('POST', '/usergroups', admin, { name: 'ops', type: 'oidc' });
      assert.equal(created.status, 201, created.text);
      const id = created.body.id as number;
      assert.equal(created.headers.get('location'), `/api/v1/usergroups/${id}`);
      assert.equal(created.body.externalId, null);
      assertError(await api('POST', '/usergroups', admin, { name: 'ops' }), 409, 'CONFLICT');
      assertError(await api('POST', '/usergroups', admin, { name: 'x', type: 'nis' }), 400, 'BAD_REQUEST');
      assert.deepEqual((await api('GET', '/usergroups?q=name%3D~op', admin)).body.map((g: { name: string }) => g.name), ['ops']);
      const qa = (await api('GET', '/usergroups?q=name%3Dqa', admin)).body[0] as { id: number };
      assertError(await api('PUT', `/usergroups/${qa.id}`, admin, { name: 'ops' }), 409, 'CONFLICT');
      const renamed = await api('PUT', `/usergroups/${qa.id}`, admin, { name: 'quality' });
      assert.equal(renamed.body.name, 'quality');
      assert.deepEqual((await api('GET', '/projects/team/members?q=name%3Dquality', as.alice)).body.map((m: { kind: string }) => m.kind), ['group']);
      assert.equal((await api('DELETE', `/usergroups/${qa.id}`, admin)).status, 204);
      assertError(await api('GET', `/usergroups/${qa.id}`, admin), 404, 'NOT_FOUND');
      assert.deepEqual((await api('GET', '/projects/team/members?q=name%3Dquality', as.alice)).body, []);
      assert.equal((await api('GET', `/usergroups/${id}`, admin)).body.type, 'oidc');
    });
  });

  describe('robots', () => {
    const pullPush = [{ resource: 'repository', action: 'pull' }, { resource: 'repository', action: 'push' }];
    let robotId: number;
    let secret: string;

    it('are created by the Project Admin, with the secret in that answer only and no hash anywhere', async () => {
      const body = { name: 'ci', description: 'builds', permissions: [{ kind: 'project', namespace: 'team', access: [...pullPush, { resource: 'member', action: 'list' }] }] };
      for (const who of ['mona', 'bob', 'gina', 'olaf']) assertError(await api('POST', '/projects/team/robots', as[who], body), 403, 'FORBIDDEN');
      const res = await api('POST', '/projects/team/robots', as.alice, body);
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.robot.name, 'robot$team+ci');
      assert.equal(res.body.robot.creator, 'alice');
      assert.ok(typeof res.body.secret === 'string' && res.body.secret.length >= 32);
      assert.doesNotMatch(res.text, /scrypt\$/);
      robotId = res.body.robot.id;
      secret = res.body.secret;
      assert.equal(res.headers.get('location'), `/api/v1/projects/team/robots/${robotId}`);
      const days = (Date.parse(res.body.robot.expiresAt) - Date.parse(res.body.robot.createdAt)) / 86_400_000;
      assert.equal(days, 30);
      const read = await api('GET', `/projects/team/robots/${robotId}`, as.bob);
      assert.equal(read.status, 200);
      assert.equal(read.body.secret, undefined);
      assert.doesNotMatch(read.text, /scrypt\$|secret/i);
      assertError(await api('POST', '/projects/team/robots', as.alice, body), 409, 'CONFLICT');
    });

    it('are read by members but Limited Guests, and by nobody else', async () => {
      for (const who of ['alice', 'mona', 'bob', 'gina']) assert.equal((await api('GET', '/projects/team/robots', as[who])).status, 200, who);
      for (const who of ['lee', 'olaf']) assertError(await api('GET', '/projects/team/robots', as[who]), 403, 'FORBIDDEN');
    });

    it('refuse push without pull, other projects, unknown permissions', async () => {
      const make = (permissions: unknown) => api('POST', '/projects/team/robots', as.alice, { name: 'bad', permissions });
      assertError(await make([{ kind: 'project', namespace: 'team', access: [{ resource: 'repository', action: 'push' }] }]), 400, 'BAD_REQUEST', /needs repository:pull/);
      assertError(await make([{ kind: 'project', namespace: 'library', access: [{ resource: 'repository', action: 'pull' }] }]), 400, 'BAD_REQUEST', /only have permissions in "team"/);
      assertError(await make([{ kind: 'project', namespace: 'team', access: [{ resource: 'user', action: 'create' }] }]), 400, 'BAD_REQUEST', /cannot be given/);
      assertError(await api('POST', '/projects/team/robots', as.alice, { name: 'Bad', permissions: [{ kind: 'project', namespace: 'team', access: pullPush }] }), 400, 'BAD_REQUEST', /not a valid robot name/);
      assertError(await api('POST', '/projects/team/robots', as.alice, { name: 'soon', duration: 0, permissions: [{ kind: 'project', namespace: 'team', access: pullPush }] }), 400, 'BAD_REQUEST');
    });

    it('log in with their secret and act within their permissions, on /v2/ and on the API', async () => {
      const auth = basic('robot$team+ci', secret);
      assert.deepEqual((await grantedAccess(url, auth, 'repository:team/app:pull,push,delete')).access, [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
      assert.equal((await api('GET', '/projects/team/members', auth)).status, 200);
      assertError(await api('GET', '/projects/team/robots', auth), 403, 'FORBIDDEN');
      assertError(await api('POST', '/projects', auth, { name: 'robots-cannot' }), 403, 'FORBIDDEN');
    });

    it('are disabled and enabled (PATCH), their secret replaced (the old one stops working), deleted', async () => {
      const auth = basic('robot$team+ci', secret);
      assertError(await api('PATCH', `/projects/team/robots/${robotId}`, as.mona, { disabled: true }), 403, 'FORBIDDEN');
      assert.equal((await api('PATCH', `/projects/team/robots/${robotId}`, as.alice, { disabled: true })).body.disabled, true);
      assert.equal((await grantedAccess(url, auth, 'repository:team/app:pull')).status, 401);
      assert.equal((await api('PATCH', `/projects/team/robots/${robotId}`, as.alice, { disabled: false })).body.disabled, false);
      assert.equal((await grantedAccess(url, auth, 'repository:team/app:pull')).status, 200);

      assertError(await api('POST', `/projects/team/robots/${robotId}/secret`, as.bob), 403, 'FORBIDDEN');
      const refreshed = await api('POST', `/projects/team/robots/${robotId}/secret`, as.alice);
      assert.equal(refreshed.status, 200, refreshed.text);
      assert.notEqual(refreshed.body.secret, secret);
      assert.equal((await grantedAccess(url, auth, 'repository:team/app:pull')).status, 401);
      assert.equal((await grantedAccess(url, basic('robot$team+ci', refreshed.body.secret), 'repository:team/app:pull')).status, 200);

      const updated = await api('PUT', `/projects/team/robots/${robotId}`, as.alice, { description: 'pull only', duration: -1, permissions: [{ kind: 'project', namespace: 'team', access: [pullPush[0]] }] });
      assert.equal(updated.status, 200, updated.text);
      assert.equal(updated.body.expiresAt, null);
      assert.deepEqual((await grantedAccess(url, basic('robot$team+ci', refreshed.body.secret), 'repository:team/app:pull,push')).access[0]?.actions, ['pull']);

      assertError(await api('GET', `/projects/scratch/robots/${robotId}`, as.bob), 404, 'NOT_FOUND');
      assertError(await api('DELETE', `/projects/team/robots/${robotId}`, as.mona), 403, 'FORBIDDEN');
      assert.equal((await api('DELETE', `/projects/team/robots/${robotId}`, as.alice)).status, 204);
      assertError(await api('GET', `/projects/team/robots/${robotId}`, as.alice), 404, 'NOT_FOUND');
      assert.equal((await grantedAccess(url, basic('robot$team+ci', refreshed.body.secret), 'repository:team/app:pull')).status, 401);
    });

    it('at system level are for administrators, and may cover every project', async () => {
      const body = { name: 'mirror', duration: 1, permissions: [{ kind: 'project', namespace: '*', access: [pullPush[0]] }] };
      assertError(await api('POST', '/robots', as.alice, body), 403, 'FORBIDDEN');
      assertError(await api('GET', '/robots', as.alice), 403, 'FORBIDDEN');
      const res = await api('POST', '/robots', admin, body);
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.robot.name, 'robot$mirror');
      assert.equal(res.body.robot.level, 'system');
      assert.equal(res.headers.get('location'), `/api/v1/robots/${res.body.robot.id}`);
      const auth = basic('robot$mirror', res.body.secret);
      assert.deepEqual((await grantedAccess(url, auth, 'repository:team/app:pull,push')).access, [{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
      assert.deepEqual((await api('GET', '/robots', admin)).body.map((r: { name: string }) => r.name), ['robot$mirror']);
      assertError(await api('GET', `/projects/team/robots/${res.body.robot.id}`, as.alice), 404, 'NOT_FOUND');
      assertError(await api('POST', '/robots', admin, { name: 'x', permissions: [{ kind: 'project', namespace: 'ghost', access: [pullPush[0]] }] }), 400, 'BAD_REQUEST', /"ghost" does not exist/);
      assert.equal((await api('DELETE', `/robots/${res.body.robot.id}`, admin)).status, 204);
    });
  });

  it('describes its operations in the OpenAPI document', async () => {
    const res = await call(url, 'GET', '/api/v1/openapi.json');
    assert.equal(res.status, 200);
    for (const path of ['/projects', '/projects/{project_name}', '/projects/{project_name}/members/{member_id}', '/usergroups/{group_id}', '/projects/{project_name}/robots/{robot_id}/secret', '/robots']) {
      assert.ok(res.body.paths[path], path);
    }
    assert.doesNotMatch(res.text, /secret_hash|secretHash/);
  });
});
