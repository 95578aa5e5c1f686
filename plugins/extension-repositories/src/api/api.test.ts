import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { definePlugin, registryEvents, RegistryError, Type, type EventEnvelope } from '@wharf/sdk';
import { createTestDatabase, pullBlob, pullManifest, pushBlob, pushImage, tinyImage, OCI_CONFIG, OCI_MANIFEST, type ImageBlob, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { ADMIN_PASSWORD, assertError, basic, bootRegistry, call } from '../test-support.js';

/**
 * The plugin's `/api/v1` operations over real HTTP on SQLite (the listing queries run on every
 * database in `listing.test.ts`), with real pushes through
 * `/v2/`, the db auth plugin and the projects RBAC plugin: every operation allowed and denied
 * per role (Project Admin, Maintainer, Developer, Guest, non-member, anonymous, robot,
 * administrator), the error envelope for bad names and references, the durable events of a
 * repository delete, a policy gate refusing, and a project deleted once its repositories are.
 */

const PASSWORD = 'Member-Pass-1';
const USERS = ['alice', 'mona', 'bob', 'gina', 'olaf'] as const;
const INDEX = 'application/vnd.oci.image.index.v1+json';
const SIGNATURE = 'application/vnd.dev.cosign.artifact.sig.v1+json';

/** Every repository event a durable consumer received, and a gate refusing deletes in `team/locked`. */
const received: EventEnvelope[] = [];
let locked = true;
/** Run once by the gate while `team/racy` is being deleted: a push landing between the gates and the delete. */
let racingPush: (() => Promise<void>) | undefined;
const observer = definePlugin({
  id: 'observer',
  kind: 'extension',
  version: '0.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    ctx.events.subscribe({
      name: 'repositories-test-observer',
      types: [registryEvents.repositoryDeleted, registryEvents.manifestDeleted],
      async handle({ event }) {
        received.push(event);
      },
    });
    ctx.hooks.registry.beforeDelete.tapPromise(ctx.id, async ({ repository }) => {
      if (locked && repository === 'team/locked') throw new RegistryError('DENIED', 'team/locked is protected by policy');
      const push = repository === 'team/racy' ? racingPush : undefined;
      racingPush = undefined;
      await push?.();
    });
  },
});

function blob(mediaType: string, content: string | Buffer): ImageBlob {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return { mediaType, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length, bytes };
}

async function putManifest(url: string, repository: string, reference: string, doc: unknown, auth: string): Promise<string> {
  const bytes = Buffer.from(JSON.stringify(doc));
  const mediaType = (doc as { mediaType: string }).mediaType;
  const res = await fetch(`${url}/v2/${repository}/manifests/${reference}`, { method: 'PUT', headers: { authorization: auth, 'content-type': mediaType }, body: bytes });
  assert.equal(res.status, 201, await res.text());
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A two-platform index under `tag`: two tiny images pushed by digest, then the index. */
async function pushIndex(url: string, repository: string, tag: string, auth: string): Promise<string> {
  const amd = tinyImage({ text: `${repository} amd64\n` });
  const arm = tinyImage({ text: `${repository} arm64\n` });
  for (const image of [amd, arm]) await pushImage(url, repository, image.manifest.digest, image, { authorization: auth });
  const entry = (image: typeof amd, architecture: string) => ({ mediaType: OCI_MANIFEST, digest: image.manifest.digest, size: image.manifest.size, platform: { architecture, os: 'linux' } });
  return putManifest(url, repository, tag, { schemaVersion: 2, mediaType: INDEX, manifests: [entry(amd, 'amd64'), entry(arm, 'arm64')] }, auth);
}

/** A cosign-style signature whose subject is `subject` (pushed by digest: a referrer). */
async function pushSignature(url: string, repository: string, subject: { digest: string; size: number }, auth: string): Promise<string> {
  const empty = blob('application/vnd.oci.empty.v1+json', '{}');
  const payload = blob('application/vnd.dev.cosign.simplesigning.v1+json', `{"critical":{"image":{"docker-manifest-digest":"${subject.digest}"}}}`);
  for (const b of [empty, payload]) await pushBlob(url, repository, b, { authorization: auth });
  const doc = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: SIGNATURE,
    config: { mediaType: empty.mediaType, digest: empty.digest, size: empty.size },
    layers: [{ mediaType: payload.mediaType, digest: payload.digest, size: payload.size }],
    subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size },
    annotations: { 'dev.sigstore.cosign/signer': 'ci' },
  };
  const bytes = Buffer.from(JSON.stringify(doc));
  return putManifest(url, repository, `sha256:${createHash('sha256').update(bytes).digest('hex')}`, doc, auth);
}

async function eventually<T>(what: string, probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('repository management with roles', () => {
  let registry: TestRegistry;
  let db: TestDatabase;
  let url: string;
  const admin = basic('admin', ADMIN_PASSWORD);
  const as: Record<string, string> = {};
  let robotReader: string;
  let robotCleaner: string;
  const api = (method: string, path: string, auth?: string, body?: unknown) => call(url, method, `/api/v1${path}`, { auth, ...(body === undefined ? {} : { body }) });
  const names = (res: { body: { name: string }[] }) => res.body.map((r) => r.name);
  const v1 = tinyImage({ text: 'app v1\n' });
  const v2 = tinyImage({ text: 'app v2\n' });
  let indexDigest: string;
  let signatureDigest: string;

  before(async () => {
    received.length = 0;
    locked = true;
    db = await createTestDatabase('sqlite');
    registry = await bootRegistry(db, {}, [observer]);
    url = registry.url;
    for (const name of USERS) {
      assert.equal((await api('POST', '/users', admin, { username: name, password: PASSWORD })).status, 201);
      as[name] = basic(name, PASSWORD);
    }
    assert.equal((await api('POST', '/projects', as.alice, { name: 'team' })).status, 201);
    assert.equal((await api('POST', '/projects', as.alice, { name: 'open', public: true })).status, 201);
    assert.equal((await api('POST', '/projects', as.olaf, { name: 'solo' })).status, 201);
    for (const [username, roleId] of [['mona', 4], ['bob', 2], ['gina', 3]] as const) {
      assert.equal((await api('POST', '/projects/team/members', as.alice, { memberUser: { username }, roleId })).status, 201);
    }
    const robot = async (name: string, access: { resource: string; action: string }[]) => {
      const res = await api('POST', '/projects/team/robots', as.alice, { name, permissions: [{ kind: 'project', namespace: 'team', access }] });
      assert.equal(res.status, 201, res.text);
      return basic(res.body.robot.name, res.body.secret);
    };
    robotReader = await robot('reader', [{ resource: 'repository', action: 'list' }, { resource: 'repository', action: 'read' }, { resource: 'artifact', action: 'list' }, { resource: 'artifact', action: 'read' }]);
    robotCleaner = await robot('cleaner', [{ resource: 'artifact', action: 'delete' }]);

    const bob = { authorization: as.bob };
    await pushImage(url, 'team/app', 'v1', v1, bob);
    await pushImage(url, 'team/app', 'v2', v2, bob);
    await pushImage(url, 'team/app/web', 'v1', tinyImage({ text: 'web\n' }), bob);
    await pushImage(url, 'team/tools', 'v1', tinyImage({ text: 'tools\n' }), bob);
    await pushImage(url, 'team/locked', 'v1', tinyImage({ text: 'locked\n' }), bob);
    await pushImage(url, 'team/racy', 'v1', tinyImage({ text: 'racy v1\n' }), bob);
    indexDigest = await pushIndex(url, 'team/multi', 'latest', as.bob!);
    signatureDigest = await pushSignature(url, 'team/app', v1.manifest, as.bob!);
    await pushImage(url, 'open/pub', 'v1', tinyImage({ text: 'public\n' }), { authorization: as.alice });
    await pushImage(url, 'solo/secret', 'v1', tinyImage({ text: 'secret\n' }), { authorization: as.olaf });
  });
  after(async () => {
    await registry?.close();
    await db?.drop();
  });

  describe('repositories', () => {
    it('lists a project\'s repositories to its members, robots with the permission and administrators', async () => {
      for (const who of [as.alice, as.mona, as.bob, as.gina, robotReader, admin]) {
        const res = await api('GET', '/projects/team/repositories', who);
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(names(res), ['team/app', 'team/app/web', 'team/locked', 'team/multi', 'team/racy', 'team/tools']);
        assert.equal(res.headers.get('x-total-count'), '6');
      }
      const app = (await api('GET', '/projects/team/repositories', as.gina)).body[0];
      assert.equal(app.project, 'team');
      assert.equal(app.artifactCount, 3, 'v1, v2 and the signature');
      assert.equal(app.tagCount, 2);
      assert.ok(app.size > v1.layer.size + v2.layer.size, String(app.size));
      assert.ok(Date.parse(app.updatedAt) >= Date.parse(app.createdAt));
    });

    it('refuses non-members, robots without the permission and anonymous callers; a missing project reads like a private one', async () => {
      const private403 = await api('GET', '/projects/team/repositories', as.olaf);
      assertError(private403, 403, 'FORBIDDEN');
      const missing403 = await api('GET', '/projects/nope/repositories', as.olaf);
      assertError(missing403, 403, 'FORBIDDEN');
      assert.equal(missing403.body.errors[0].message, private403.body.errors[0].message.replace('team', 'nope'));
      assertError(await api('GET', '/projects/team/repositories', robotCleaner), 403, 'FORBIDDEN');
      assertError(await api('GET', '/projects/team/repositories', undefined), 401, 'UNAUTHORIZED');
      assertError(await api('GET', '/projects/solo/repositories', as.bob), 403, 'FORBIDDEN');
    });

    it('shows public projects\' repositories to anyone, anonymous included', async () => {
      for (const who of [undefined, as.olaf, as.gina]) assert.deepEqual(names(await api('GET', '/projects/open/repositories', who)), ['open/pub']);
      assert.equal((await api('GET', '/projects/open/repositories/pub', undefined)).body.name, 'open/pub');
    });

    it('pages and searches (case-insensitive substring; exact name)', async () => {
      const page2 = await api('GET', '/projects/team/repositories?page=2&page_size=2', as.gina);
      assert.deepEqual(names(page2), ['team/locked', 'team/multi']);
      assert.equal(page2.headers.get('x-total-count'), '6');
      assert.match(page2.headers.get('link') ?? '', /rel="prev".*rel="next"/);
      assert.deepEqual(names(await api('GET', '/projects/team/repositories?q=name%3D~APP', as.gina)), ['team/app', 'team/app/web']);
      assert.deepEqual(names(await api('GET', '/projects/team/repositories?q=name%3D~_', as.gina)), [], 'a LIKE wildcard is matched literally');
      assert.deepEqual(names(await api('GET', '/projects/team/repositories?q=name%3Dapp%2Fweb', as.gina)), ['team/app/web']);
      assert.deepEqual(names(await api('GET', '/projects/team/repositories?q=name%3Dteam%2Ftools', as.gina)), ['team/tools']);
      assert.deepEqual(names(await api('GET', '/projects/team/repositories?q=name%3Dnothing', as.gina)), []);
      assertError(await api('GET', '/projects/team/repositories?q=tag%3Dx', as.gina), 400, 'BAD_REQUEST');
    });

    it('reads one repository by its URL-encoded name (once, or twice as Harbor\'s clients send it)', async () => {
      for (const encoded of ['app%2Fweb', 'app%252Fweb']) {
        const res = await api('GET', `/projects/team/repositories/${encoded}`, as.gina);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.name, 'team/app/web');
        assert.equal(res.body.artifactCount, 1);
      }
      assertError(await api('GET', '/projects/team/repositories/nothing', as.gina), 404, 'NOT_FOUND', /no repository team\/nothing/);
      assertError(await api('GET', '/projects/team/repositories/App', as.gina), 400, 'BAD_REQUEST', /invalid repository name/);
      assertError(await api('GET', '/projects/team/repositories/a%2F%2Fb', as.gina), 400, 'BAD_REQUEST');
      assertError(await api('GET', '/projects/team/repositories/%E0%A4%A', as.gina), 400, 'BAD_REQUEST');
      assertError(await api('GET', '/projects/team/repositories/app', as.olaf), 403, 'FORBIDDEN');
    });
  });

  describe('artifacts', () => {
    it('lists artifacts newest first with tags, sizes, types, referrers and times', async () => {
      const res = await api('GET', '/projects/team/repositories/app/artifacts', robotReader);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.get('x-total-count'), '3');
      const [sig, second, first] = res.body;
      assert.equal(sig.digest, signatureDigest);
      assert.equal(sig.artifactType, SIGNATURE);
      assert.equal(sig.subject, v1.manifest.digest);
      assert.deepEqual(sig.tags, []);
      assert.deepEqual(second.tags, ['v2']);
      assert.equal(first.digest, v1.manifest.digest);
      assert.deepEqual(first.tags, ['v1']);
      assert.equal(first.mediaType, OCI_MANIFEST);
      assert.equal(first.artifactType, OCI_CONFIG, 'an image\'s artifact type is its config\'s media type (OCI image spec)');
      assert.equal(first.manifestSize, v1.manifest.size);
      assert.equal(first.size, v1.manifest.size + v1.config.size + v1.layer.size);
      assert.deepEqual(first.referrers.map((r: { digest: string; artifactType: string; annotations: Record<string, string> }) => [r.digest, r.artifactType, r.annotations['dev.sigstore.cosign/signer']]), [[signatureDigest, SIGNATURE, 'ci']]);
      assert.ok(Date.parse(first.pushedAt) <= Date.parse(sig.pushedAt));
      assert.ok(first.pulledAt === null || typeof first.pulledAt === 'string');
      assert.deepEqual((await api('GET', '/projects/team/repositories/app/artifacts?page=2&page_size=2', as.gina)).body.map((a: { digest: string }) => a.digest), [v1.manifest.digest]);
      for (const who of [as.olaf, robotCleaner]) assertError(await api('GET', '/projects/team/repositories/app/artifacts', who), 403, 'FORBIDDEN');
      assertError(await api('GET', '/projects/team/repositories/app/artifacts', undefined), 401, 'UNAUTHORIZED');
      assert.deepEqual((await api('GET', '/projects/team/repositories/nothing/artifacts', as.gina)).body, []);
    });

    it('reads an artifact by tag or digest, with an index\'s platforms', async () => {
      const byTag = await api('GET', '/projects/team/repositories/multi/artifacts/latest', as.gina);
      assert.equal(byTag.status, 200, byTag.text);
      assert.equal(byTag.body.digest, indexDigest);
      assert.equal(byTag.body.mediaType, INDEX);
      assert.deepEqual(byTag.body.platforms.map((p: { architecture: string; os: string }) => `${p.os}/${p.architecture}`), ['linux/amd64', 'linux/arm64']);
      assert.equal(byTag.body.children.length, 2);
      const byDigest = await api('GET', `/projects/team/repositories/multi/artifacts/${indexDigest}`, as.gina);
      assert.deepEqual(byDigest.body, byTag.body);
      assertError(await api('GET', '/projects/team/repositories/multi/artifacts/nope', as.gina), 404, 'NOT_FOUND');
      assertError(await api('GET', '/projects/team/repositories/multi/artifacts/bad%20tag', as.gina), 400, 'BAD_REQUEST', /invalid tag/);
      assertError(await api('GET', '/projects/team/repositories/multi/artifacts/sha256:zz', as.gina), 400, 'BAD_REQUEST', /invalid digest/);
      assertError(await api('GET', '/projects/team/repositories/multi/artifacts/latest', as.olaf), 403, 'FORBIDDEN');
    });

    it('adds a tag for developers and up; removes one for maintainers and up', async () => {
      const path = `/projects/team/repositories/app/artifacts/${v1.manifest.digest}/tags`;
      for (const who of [as.gina, as.olaf, robotReader]) assertError(await api('POST', path, who, { name: 'stable' }), 403, 'FORBIDDEN');
      assertError(await api('POST', path, undefined, { name: 'stable' }), 401, 'UNAUTHORIZED');
      const created = await api('POST', path, as.bob, { name: 'stable' });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(created.body, { name: 'stable', digest: v1.manifest.digest });
      assert.equal(created.headers.get('location'), '/api/v1/projects/team/repositories/app/artifacts/stable');
      assert.equal((await pullManifest(url, 'team/app', 'stable', { authorization: as.gina })).digest, v1.manifest.digest);
      assertError(await api('POST', path, as.bob, { name: 'v2' }), 409, 'CONFLICT', /has the tag v2 already/);
      assertError(await api('POST', path, as.bob, { name: '-bad' }), 400, 'BAD_REQUEST');
      assertError(await api('POST', path, as.bob, { name: 'x', extra: 1 }), 400, 'BAD_REQUEST');
      assertError(await api('POST', '/projects/team/repositories/app/artifacts/nope/tags', as.bob, { name: 'x' }), 404, 'NOT_FOUND');

      for (const who of [as.bob, as.gina, as.olaf]) assertError(await api('DELETE', `${path}/stable`, who), 403, 'FORBIDDEN');
      assertError(await api('DELETE', `/projects/team/repositories/app/artifacts/v2/tags/stable`, as.mona), 404, 'NOT_FOUND', /has no tag stable/);
      assert.equal((await api('DELETE', `${path}/stable`, as.mona)).status, 204);
      assertError(await api('GET', '/projects/team/repositories/app/artifacts/stable', as.gina), 404, 'NOT_FOUND');
      assert.equal((await api('GET', '/projects/team/repositories/app/artifacts/v1', as.gina)).status, 200, 'the artifact stays');
    });

    it('copies an artifact with its referrers from a repository the caller may pull, for developers and up', async () => {
      const copy = (who: string | undefined, from: string, into = 'copied') => api('POST', `/projects/team/repositories/${into}/artifacts?from=${encodeURIComponent(from)}`, who);
      for (const who of [as.gina, as.olaf]) assertError(await copy(who, 'team/app:v1'), 403, 'FORBIDDEN');
      assertError(await copy(undefined, 'team/app:v1'), 401, 'UNAUTHORIZED');
      assertError(await copy(as.bob, 'solo/secret:v1'), 404, 'NOT_FOUND', /that you may pull/);
      assertError(await copy(as.bob, 'nope/x:v1'), 404, 'NOT_FOUND', /that you may pull/);
      assertError(await copy(as.bob, 'team/app:nope'), 404, 'NOT_FOUND');
      assertError(await copy(as.bob, 'team/app'), 400, 'BAD_REQUEST', /expected <project>/);
      assertError(await copy(as.bob, 'team/App:v1'), 400, 'BAD_REQUEST');
      assertError(await api('POST', '/projects/team/repositories/copied/artifacts', as.bob), 400, 'BAD_REQUEST');

      const res = await copy(as.bob, 'team/app:v1');
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(res.body, { repository: 'team/copied', digest: v1.manifest.digest, tag: 'v1' });
      assert.equal(res.headers.get('location'), `/api/v1/projects/team/repositories/copied/artifacts/${v1.manifest.digest}`);
      const copied = await api('GET', '/projects/team/repositories/copied/artifacts/v1', as.gina);
      assert.deepEqual(copied.body.referrers.map((r: { digest: string }) => r.digest), [signatureDigest], 'the signature came along');
      assert.deepEqual((await pullBlob(url, 'team/copied', v1.layer.digest, { authorization: as.gina })).equals(v1.layer.bytes), true);

      const index = await copy(as.bob, `team/multi@${indexDigest}`, 'app%2Fmulti');
      assert.equal(index.status, 201, index.text);
      assert.equal(index.body.tag, null, 'copied by digest: untagged');
      assert.equal((await pullManifest(url, 'team/app/multi', indexDigest, { authorization: as.gina })).digest, indexDigest);
      assert.equal((await api('GET', '/projects/team/repositories/app%2Fmulti', as.gina)).body.artifactCount, 3, 'the index and its two images');

      // From a public project into one's own.
      assert.equal((await copy(as.olaf, 'open/pub:v1', 'mirror').then((r) => r.status)), 403, 'olaf is no member of team');
      assert.equal((await api('POST', `/projects/solo/repositories/mirror/artifacts?from=${encodeURIComponent('open/pub:v1')}`, as.olaf)).status, 201);
    });

    it('deletes an artifact with its tags for maintainers, admins and robots with the permission', async () => {
      const path = '/projects/team/repositories/app/artifacts/v2';
      for (const who of [as.bob, as.gina, as.olaf, robotReader]) assertError(await api('DELETE', path, who), 403, 'FORBIDDEN');
      assertError(await api('DELETE', path, undefined), 401, 'UNAUTHORIZED');
      assert.equal((await api('DELETE', path, as.mona)).status, 204);
      assertError(await api('GET', path, as.gina), 404, 'NOT_FOUND');
      await assert.rejects(pullManifest(url, 'team/app', v2.manifest.digest, { authorization: as.gina }), /404/);
      assert.equal((await api('DELETE', `/projects/team/repositories/copied/artifacts/${signatureDigest}`, robotCleaner)).status, 204);
      assertError(await api('DELETE', path, as.mona), 404, 'NOT_FOUND');
      assertError(await api('DELETE', '/projects/team/repositories/locked/artifacts/v1', as.mona), 403, 'FORBIDDEN', /protected by policy/);
    });
  });

  describe('deleting repositories', () => {
    it('is for maintainers and up; a policy gate refuses the whole repository', async () => {
      for (const who of [as.bob, as.gina, as.olaf, robotReader]) assertError(await api('DELETE', '/projects/team/repositories/tools', who), 403, 'FORBIDDEN');
      assertError(await api('DELETE', '/projects/team/repositories/tools', undefined), 401, 'UNAUTHORIZED');
      assertError(await api('DELETE', '/projects/team/repositories/locked', as.alice), 403, 'FORBIDDEN', /protected by policy/);
      assert.equal((await api('GET', '/projects/team/repositories/locked', as.gina)).body.artifactCount, 1, 'nothing was deleted');
      assertError(await api('DELETE', '/projects/team/repositories/nothing', as.mona), 404, 'NOT_FOUND');
      assertError(await api('DELETE', '/projects/team/repositories/Bad', as.mona), 400, 'BAD_REQUEST');
    });

    it('deletes nothing when a push lands between the gates and the delete (409), and everything when tried again', async () => {
      racingPush = () => pushImage(url, 'team/racy', 'v2', tinyImage({ text: 'racy v2\n' }), { authorization: as.bob }).then(() => undefined);
      assertError(await api('DELETE', '/projects/team/repositories/racy', as.mona), 409, 'CONFLICT', /changed while it was being deleted/);
      assert.equal(racingPush, undefined, 'the push ran');
      const kept = await api('GET', '/projects/team/repositories/racy', as.gina);
      assert.equal(kept.body.artifactCount, 2, 'v1 kept, v2 added');
      assert.equal((await api('DELETE', '/projects/team/repositories/racy', as.mona)).status, 204);
    });

    it('deletes every artifact and tag, records the durable events, and the blobs stay for garbage collection', async () => {
      const app = (await api('GET', '/projects/team/repositories/app/artifacts', as.gina)).body.map((a: { digest: string }) => a.digest).sort();
      assert.equal((await api('DELETE', '/projects/team/repositories/app', as.mona)).status, 204);
      assertError(await api('GET', '/projects/team/repositories/app', as.gina), 404, 'NOT_FOUND');
      assert.ok(!names(await api('GET', '/projects/team/repositories', as.gina)).includes('team/app'));
      await assert.rejects(pullManifest(url, 'team/app', 'v1', { authorization: as.gina }), /404/);
      // The copy shares the blobs: it still pulls whole.
      assert.ok((await pullBlob(url, 'team/copied', v1.layer.digest, { authorization: as.gina })).equals(v1.layer.bytes));

      const deleted = await eventually('registry.repository.deleted', () => received.find((e) => e.type === 'registry.repository.deleted' && (e.data as { repository: string }).repository === 'team/app'));
      assert.equal(deleted.partition, 'team/app');
      assert.equal(deleted.actor?.subject, 'mona');
      const manifests = received.filter((e) => e.type === 'registry.manifest.deleted' && (e.data as { repository: string }).repository === 'team/app' && e.seq < deleted.seq);
      for (const digest of app) assert.ok(manifests.some((e) => (e.data as { digest: string }).digest === digest), `a manifest.deleted event for ${digest}`);
      assert.equal(app.length, 2, 'v1 and its signature (v2 was deleted before)');
    });

    it('lets a project be deleted once its repositories are (it was 412 for good before)', async () => {
      assertError(await api('DELETE', '/projects/team', as.alice), 412, 'PRECONDITION_FAILED');
      const all = names(await api('GET', '/projects/team/repositories?page_size=100', as.alice));
      for (const name of all.filter((n) => n !== 'team/locked')) {
        const res = await api('DELETE', `/projects/team/repositories/${encodeURIComponent(name.slice('team/'.length))}`, as.alice);
        assert.equal(res.status, 204, `${name}: ${res.text}`);
      }
      assert.deepEqual(names(await api('GET', '/projects/team/repositories', as.alice)), ['team/locked']);
      assert.equal((await api('DELETE', '/projects/team/repositories/locked', admin)).status, 403, 'the gate holds for administrators too');
      assertError(await api('DELETE', '/projects/team', as.alice), 412, 'PRECONDITION_FAILED', /holds 1 repository/);
      locked = false;
      assert.equal((await api('DELETE', '/projects/team/repositories/locked', as.alice)).status, 204);
      assert.equal((await api('DELETE', '/projects/team', as.alice)).status, 204);
      assertError(await api('GET', '/projects/team', admin), 404, 'NOT_FOUND');
      assert.equal((await api('DELETE', '/projects/solo/repositories/secret', as.olaf)).status, 204);
      assert.equal((await api('DELETE', '/projects/solo/repositories/mirror', as.olaf)).status, 204);
      assert.equal((await api('DELETE', '/projects/solo', as.olaf)).status, 204);
    });
  });
});

describe('with registry.deleteEnabled: false', () => {
  let registry: TestRegistry;
  let db: TestDatabase;
  const admin = basic('admin', ADMIN_PASSWORD);
  before(async () => {
    db = await createTestDatabase('sqlite');
    registry = await bootRegistry(db, { registry: { deleteEnabled: false } });
    assert.equal((await call(registry.url, 'POST', '/api/v1/projects', { auth: admin, body: { name: 'team' } })).status, 201);
    await pushImage(registry.url, 'team/app', 'v1', tinyImage(), { authorization: admin });
  });
  after(async () => {
    await registry?.close();
    await db?.drop();
  });

  it('refuses repository, artifact and tag deletes with 405 and keeps everything', async () => {
    const api = (method: string, path: string) => call(registry.url, method, `/api/v1/projects/team/repositories/app${path}`, { auth: admin });
    for (const path of ['', '/artifacts/v1', '/artifacts/v1/tags/v1']) assertError(await api('DELETE', path), 405, 'METHOD_NOT_ALLOWED', /deletes are disabled/);
    const repo = await api('GET', '');
    assert.equal(repo.body.artifactCount, 1);
    assert.equal(repo.body.tagCount, 1);
  });
});
