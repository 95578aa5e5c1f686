import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { repositoriesPlugin } from '@wharf/plugin-extension-repositories';
import { rbacProjectsPlugin } from '@wharf/plugin-rbac-projects';
import { basicAuth, createTestDatabase, pushImage, startTestRegistry, tinyImage, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { tagImmutabilityPlugin } from './index.js';
import { tryDelete, tryPush } from './test-support.js';

/**
 * The rules API over real HTTP with the db auth and projects RBAC plugins (SQLite; the store runs
 * on every database in nodes.test.ts): each operation allowed and denied per role, patterns
 * checked up front, and enforcement seen from /v2/ (OCI DENIED) and from /api/v1 (the error
 * envelope) for pushes, tag moves, copies, and tag, artifact and repository deletes.
 */

const ADMIN_PASSWORD = 'Admin-Passw0rd';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const PASSWORD = 'Member-Pass-1';
const basic = basicAuth;
const glob = (pattern: string, decoration: 'matches' | 'excludes' = 'matches') => ({ kind: 'doublestar', decoration, pattern });
const repos = (pattern: string) => [{ kind: 'doublestar', decoration: 'repoMatches', pattern }];

let nextAddress = 1;
interface Answer { status: number; body: any; text: string } // eslint-disable-line @typescript-eslint/no-explicit-any

describe('tag immutability through the API and /v2/', () => {
  let db: TestDatabase;
  let registry: TestRegistry;
  let url: string;
  const admin = basic('admin', ADMIN_PASSWORD);
  const as: Record<string, string> = {};
  const api = async (method: string, path: string, auth?: string, body?: unknown): Promise<Answer> => {
    const headers: Record<string, string> = { 'x-forwarded-for': `198.51.100.${nextAddress++ % 250}` };
    if (auth) headers.authorization = auth;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, text, body: text ? JSON.parse(text) : undefined };
  };
  const refused = (res: Answer, status: number, code: string, message?: RegExp) => {
    assert.equal(res.status, status, res.text);
    assert.equal(res.body?.errors?.[0]?.code, code, res.text);
    if (message) assert.match(res.body.errors[0].message, message);
  };
  const v1 = tinyImage({ text: 'app v1\n' });
  const v2 = tinyImage({ text: 'app v2\n' });
  const tools = tinyImage({ text: 'tools\n' });
  let protectV: number;

  before(async () => {
    db = await createTestDatabase('sqlite');
    const saved = process.env.WHARF_ADMIN_PASSWORD;
    process.env.WHARF_ADMIN_PASSWORD = ADMIN_PASSWORD;
    try {
      registry = await startTestRegistry({
        config: { database: db.config, auth: [{ db: {} }], token: { enabled: false }, rbac: { projects: {} }, server: { trustProxy: true } },
        plugins: [rbacProjectsPlugin, repositoriesPlugin, tagImmutabilityPlugin],
      });
    } finally {
      if (saved === undefined) delete process.env.WHARF_ADMIN_PASSWORD;
      else process.env.WHARF_ADMIN_PASSWORD = saved;
    }
    url = registry.url;
    for (const name of ['alice', 'mona', 'bob', 'gina', 'olaf']) {
      assert.equal((await api('POST', '/users', admin, { username: name, password: PASSWORD })).status, 201);
      as[name] = basic(name, PASSWORD);
    }
    assert.equal((await api('POST', '/projects', as.alice, { name: 'team' })).status, 201);
    for (const [username, roleId] of [['mona', 4], ['bob', 2], ['gina', 3]] as const) {
      assert.equal((await api('POST', '/projects/team/members', as.alice, { memberUser: { username }, roleId })).status, 201);
    }
    await pushImage(url, 'team/app', 'v1', v1, { authorization: as.bob });
    await pushImage(url, 'team/app', 'extra', v1, { authorization: as.bob });
    await pushImage(url, 'team/tools', 'v1', tools, { authorization: as.bob });
  });
  after(async () => {
    await registry?.close();
    await db?.drop();
  });

  describe('managing rules', () => {
    it('Project Admins, Maintainers and administrators create, read, update, enable/disable and delete rules', async () => {
      for (const who of [as.alice, as.mona, admin]) {
        const created = await api('POST', '/projects/team/immutable-tag-rules', who, { repositories: repos('scratch/**'), tags: [glob('x*')], priority: 7 });
        assert.equal(created.status, 201, created.text);
        const id = created.body.id as number;
        assert.equal(created.body.project, 'team');
        assert.equal(created.body.enabled, true);
        assert.equal(created.body.priority, 7);
        assert.deepEqual(created.body.tags, [glob('x*')]);
        assert.equal((await api('GET', `/projects/team/immutable-tag-rules/${id}`, who)).body.id, id);
        assert.ok((await api('GET', '/projects/team/immutable-tag-rules', who)).body.some((r: { id: number }) => r.id === id));
        const replaced = await api('PUT', `/projects/team/immutable-tag-rules/${id}`, who, { repositories: repos('scratch/**'), tags: [glob('y*')], enabled: false });
        assert.equal(replaced.status, 200, replaced.text);
        assert.deepEqual([replaced.body.enabled, replaced.body.priority, replaced.body.tags[0].pattern], [false, 0, 'y*']);
        assert.equal((await api('PATCH', `/projects/team/immutable-tag-rules/${id}`, who, { enabled: true })).body.enabled, true);
        assert.equal((await api('DELETE', `/projects/team/immutable-tag-rules/${id}`, who)).status, 204);
        refused(await api('GET', `/projects/team/immutable-tag-rules/${id}`, who), 404, 'NOT_FOUND', /immutability rule \d+ not found in project team/);
      }
    });

    it('Developers, Guests, non-members and anonymous callers may not, not even list', async () => {
      const kept = await api('POST', '/projects/team/immutable-tag-rules', as.alice, { repositories: repos('scratch/**'), tags: [glob('z')] });
      const id = kept.body.id as number;
      for (const who of [as.bob, as.gina, as.olaf]) {
        refused(await api('GET', '/projects/team/immutable-tag-rules', who), 403, 'FORBIDDEN');
        refused(await api('GET', `/projects/team/immutable-tag-rules/${id}`, who), 403, 'FORBIDDEN');
        refused(await api('POST', '/projects/team/immutable-tag-rules', who, { repositories: repos('**'), tags: [glob('**')] }), 403, 'FORBIDDEN');
        refused(await api('PUT', `/projects/team/immutable-tag-rules/${id}`, who, { repositories: repos('**'), tags: [glob('**')] }), 403, 'FORBIDDEN');
        refused(await api('PATCH', `/projects/team/immutable-tag-rules/${id}`, who, { enabled: false }), 403, 'FORBIDDEN');
        refused(await api('DELETE', `/projects/team/immutable-tag-rules/${id}`, who), 403, 'FORBIDDEN');
      }
      refused(await api('GET', '/projects/team/immutable-tag-rules', undefined), 401, 'UNAUTHORIZED');
      assert.equal((await api('GET', `/projects/team/immutable-tag-rules/${id}`, as.alice)).body.enabled, true, 'untouched');
      assert.equal((await api('DELETE', `/projects/team/immutable-tag-rules/${id}`, as.alice)).status, 204);
    });

    it('declares its operations in the OpenAPI document', async () => {
      const doc = (await api('GET', '/openapi.json', undefined)).body;
      const rules = doc.paths['/projects/{project_name}/immutable-tag-rules'];
      const one = doc.paths['/projects/{project_name}/immutable-tag-rules/{rule_id}'];
      assert.deepEqual(Object.keys(rules).sort(), ['get', 'post']);
      assert.deepEqual(Object.keys(one).sort(), ['delete', 'get', 'patch', 'put']);
      assert.equal(rules.post.operationId, 'createImmutableTagRule');
    });

    it('deletes the rules of a deleted project', async () => {
      assert.equal((await api('POST', '/projects', as.alice, { name: 'brief' })).status, 201);
      assert.equal((await api('POST', '/projects/brief/immutable-tag-rules', as.alice, { repositories: repos('**'), tags: [glob('**')] })).status, 201);
      assert.equal((await api('DELETE', '/projects/brief', as.alice)).status, 204);
      for (let i = 0; ; i++) {
        const left = await api('GET', '/projects/brief/immutable-tag-rules', admin);
        assert.equal(left.status, 200, left.text);
        if (left.body.length === 0) break;
        assert.ok(i < 200, 'the rules of the deleted project are still there');
        await new Promise((r) => setTimeout(r, 50));
      }
    });

    it('refuses bad patterns and bodies with a 400 naming the selector; nothing is stored', async () => {
      const before = (await api('GET', '/projects/team/immutable-tag-rules', as.alice)).body.length;
      refused(await api('POST', '/projects/team/immutable-tag-rules', as.alice, { repositories: repos('{a,b'), tags: [glob('v*')] }), 400, 'BAD_REQUEST', /repositories\[0\]\.pattern: invalid glob "\{a,b"/);
      refused(
        await api('POST', '/projects/team/immutable-tag-rules', as.alice, { repositories: repos('**'), tags: [glob('v*'), { kind: 'regex', decoration: 'matches', pattern: '(a+)+' }] }),
        400,
        'BAD_REQUEST',
        /tags\[1\]\.pattern: regular expression "\(a\+\)\+" refused: nested repetition/,
      );
      refused(await api('POST', '/projects/team/immutable-tag-rules', as.alice, { repositories: repos('**'), tags: [{ kind: 'regex', decoration: 'matches', pattern: 'v(' }] }), 400, 'BAD_REQUEST', /invalid regular expression/);
      refused(await api('POST', '/projects/team/immutable-tag-rules', as.alice, { repositories: repos('**'), tags: [] }), 400, 'BAD_REQUEST');
      refused(await api('POST', '/projects/team/immutable-tag-rules', as.alice, { repositories: [{ kind: 'doublestar', decoration: 'matches', pattern: '**' }], tags: [glob('v')] }), 400, 'BAD_REQUEST');
      refused(await api('POST', '/projects/team/immutable-tag-rules', as.alice, { repositories: repos('**'), tags: [glob('v')], action: 'x' }), 400, 'BAD_REQUEST');
      refused(await api('PATCH', '/projects/team/immutable-tag-rules/424242', as.alice, {}), 400, 'BAD_REQUEST', /say what to change/);
      refused(await api('PUT', '/projects/team/immutable-tag-rules/424242', as.alice, { repositories: repos('**'), tags: [glob('v')] }), 404, 'NOT_FOUND');
      assert.equal((await api('GET', '/projects/team/immutable-tag-rules', as.alice)).body.length, before);
    });
  });

  describe('enforcement', () => {
    before(async () => {
      const res = await api('POST', '/projects/team/immutable-tag-rules', as.mona, { repositories: repos('app'), tags: [glob('v*'), glob('v*-dev', 'excludes')] });
      assert.equal(res.status, 201, res.text);
      protectV = res.body.id;
    });

    it('refuses a push that would point a protected tag to another digest, with OCI DENIED naming the tag and rule', async () => {
      const res = await tryPush(url, 'team/app', 'v1', v2, as.bob);
      assert.equal(res.status, 403);
      assert.equal(res.body?.errors?.[0]?.code, 'DENIED');
      assert.equal(res.body?.errors?.[0]?.message, `tag team/app:v1 is immutable (immutability rule ${protectV} of project team): it points to ${v1.manifest.digest} and cannot be overwritten`);
      assert.equal((await api('GET', '/projects/team/repositories/app/artifacts/v1', as.bob)).body.digest, v1.manifest.digest, 'the tag did not move');
    });

    it('lets the same digest be pushed again, new protected tags be created, and unprotected tags move', async () => {
      assert.equal((await tryPush(url, 'team/app', 'v1', v1, as.bob)).status, 201);
      assert.equal((await tryPush(url, 'team/app', 'v2', v2, as.bob)).status, 201, 'a new protected tag');
      assert.equal((await tryPush(url, 'team/app', 'extra', v2, as.bob)).status, 201, 'not selected');
      assert.equal((await tryPush(url, 'team/app', 'v2-dev', v1, as.bob)).status, 201);
      assert.equal((await tryPush(url, 'team/app', 'v2-dev', v2, as.bob)).status, 201, 'excluded');
      assert.equal((await tryPush(url, 'team/tools', 'v1', v2, as.bob)).status, 201, 'another repository');
      assert.equal((await tryPush(url, 'team/tools', 'v1', tools, as.bob)).status, 201);
    });

    it('refuses deletes through /v2/: the tag, and the artifact holding it', async () => {
      for (const reference of ['v1', v1.manifest.digest]) {
        const res = await tryDelete(url, 'team/app', reference, as.alice);
        assert.equal(res.status, 403, reference);
        assert.equal(res.body?.errors?.[0]?.code, 'DENIED');
        assert.match(res.body?.errors?.[0]?.message ?? '', /team\/app(:v1|@sha256:[0-9a-f]+ holds the immutable tag v1) .*immutability rule \d+ of project team/);
      }
    });

    it('answers API callers with the error envelope: tag, artifact and repository deletes, tag moves and copies', async () => {
      const gone = /immutable/;
      refused(await api('DELETE', '/projects/team/repositories/app/artifacts/v1/tags/v1', as.alice), 403, 'FORBIDDEN', /tag team\/app:v1 is immutable/);
      refused(await api('DELETE', `/projects/team/repositories/app/artifacts/${v1.manifest.digest}`, as.alice), 403, 'FORBIDDEN', /holds the immutable tag v1/);
      refused(await api('DELETE', '/projects/team/repositories/app', as.alice), 403, 'FORBIDDEN', gone);
      refused(await api('POST', '/projects/team/repositories/app/artifacts?from=team/tools:v1', as.alice), 403, 'FORBIDDEN', /tag team\/app:v1 is immutable/);
      assert.equal((await api('GET', '/projects/team/repositories/app/artifacts/v1', as.bob)).body.digest, v1.manifest.digest);
      // Harbor: the artifact's other, unprotected tags may go.
      assert.equal((await tryPush(url, 'team/app', 'spare', v1, as.bob)).status, 201);
      assert.equal((await api('DELETE', '/projects/team/repositories/app/artifacts/v1/tags/spare', as.alice)).status, 204);
    });

    it('keeps every platform of a protected index: its children cannot be deleted by digest', async () => {
      const amd = tinyImage({ text: 'index amd64\n' });
      const arm = tinyImage({ text: 'index arm64\n' });
      for (const image of [amd, arm]) await pushImage(url, 'team/app', image.manifest.digest, image, { authorization: as.bob });
      const entry = (image: typeof amd, architecture: string) => ({ mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.size, platform: { architecture, os: 'linux' } });
      const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [entry(amd, 'amd64'), entry(arm, 'arm64')] }));
      const put = await fetch(`${url}/v2/team/app/manifests/v9`, { method: 'PUT', headers: { authorization: as.bob!, 'content-type': INDEX }, body: index });
      assert.equal(put.status, 201, await put.text());
      const indexDigest = put.headers.get('docker-content-digest');
      const res = await tryDelete(url, 'team/app', arm.manifest.digest, as.alice);
      assert.equal(res.status, 403);
      assert.equal(res.body?.errors?.[0]?.message, `artifact team/app@${arm.manifest.digest} is part of the index ${indexDigest}, which holds the immutable tag v9 (immutability rule ${protectV} of project team) and cannot be deleted`);
      refused(await api('DELETE', `/projects/team/repositories/app/artifacts/${amd.manifest.digest}`, as.alice), 403, 'FORBIDDEN', /is part of the index .* immutable tag v9/);
    });

    it('a disabled rule protects nothing; enabling it again protects again', async () => {
      assert.equal((await api('PATCH', `/projects/team/immutable-tag-rules/${protectV}`, as.mona, { enabled: false })).status, 200);
      assert.equal((await tryPush(url, 'team/app', 'v2', v1, as.bob)).status, 201, 'moved while disabled');
      assert.equal((await api('PATCH', `/projects/team/immutable-tag-rules/${protectV}`, as.mona, { enabled: true })).status, 200);
      assert.equal((await tryPush(url, 'team/app', 'v2', v2, as.bob)).status, 403);
      assert.equal((await api('DELETE', `/projects/team/immutable-tag-rules/${protectV}`, as.mona)).status, 204);
      assert.equal((await tryDelete(url, 'team/app', 'v2', as.alice)).status, 202, 'rule deleted: the tag may go');
    });
  });
});
