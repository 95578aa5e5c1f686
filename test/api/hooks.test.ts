import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '@wharf/core';
import { RegistryError, Type, definePlugin, type Digest, type Principal } from '@wharf/sdk';
import { OciClient, assertOciError } from './support/client.js';
import { imageParts } from './support/oci.js';
import { OPEN_REGISTRY } from './support/server.js';

/**
 * The registry's hooks, driven over real HTTP by a plugin loaded the production way: policy
 * gates refuse with OCI errors and store nothing, events report what happened, and auth/RBAC
 * taps decide who may do what.
 */
const events: { name: string; repository: string; detail: string }[] = [];
const SEAM_BLOB = Buffer.from('a blob served from elsewhere');
const SEAM_DIGEST = `sha256:${createHash('sha256').update(SEAM_BLOB).digest('hex')}` as Digest;
/** Password checks the provider was asked for, per user. */
const checks = new Map<string, number>();

const gates = definePlugin({
  id: 'test-gates',
  kind: 'extension',
  version: '0.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    const { registry, auth, rbac } = ctx.hooks;
    registry.beforeManifestPut.tapPromise('gate', async (put) => {
      if (put.tag === 'blocked') throw new RegistryError('DENIED', 'tag "blocked" is refused by policy');
    });
    registry.beforePull.tapPromise('gate', async (pull) => {
      if (pull.reference === 'quarantined') throw new RegistryError('DENIED', 'quarantined');
    });
    registry.beforeDelete.tapPromise('gate', async (del) => {
      if (del.repository === 'hooks/keep') throw new RegistryError('DENIED', 'protected repository');
    });
    // The pull-through seam, the way a proxy cache uses it: headers on manifests, blobs from elsewhere, uploads refused.
    registry.prepareManifest.tapPromise('seam', async (req) => {
      if (req.repository === 'hooks/seam-refused') throw new RegistryError('TOOMANYREQUESTS', `upstream answered 429 for ${req.reference}`);
      return req.repository === 'hooks/seam' ? { headers: { Warning: `110 - "stale: ${req.method} ${req.reference}"` } } : undefined;
    });
    registry.fetchBlob.tapPromise('seam', async (req) => {
      if (req.repository !== 'hooks/seam') return undefined;
      return { size: SEAM_BLOB.length, stream: req.method === 'GET' ? Readable.from([SEAM_BLOB]) : undefined, headers: { 'X-Served-By': `seam ${req.digest === SEAM_DIGEST}` } };
    });
    registry.beforeUploadStart.tapPromise('seam', async (ctx) => {
      if (ctx.repository === 'hooks/seam-noupload') throw new RegistryError('DENIED', `no pushes into ${ctx.repository} (from ${ctx.from ?? 'nowhere'})`);
    });
    registry.manifestPushed.tapPromise('events', async (e) => void events.push({ name: 'manifestPushed', repository: e.repository, detail: `${e.tag}` }));
    registry.blobCommitted.tapPromise('events', async (e) => void events.push({ name: 'blobCommitted', repository: e.repository, detail: `${e.mounted}` }));
    registry.artifactPulled.tapPromise('events', async (e) => void events.push({ name: 'artifactPulled', repository: e.repository, detail: e.reference }));
    registry.manifestDeleted.tapPromise('events', async (e) => void events.push({ name: 'manifestDeleted', repository: e.repository, detail: `${e.tag}` }));
    auth.authenticate.tapPromise('static', async (creds) => {
      if (creds.kind !== 'basic') return undefined;
      checks.set(creds.username, (checks.get(creds.username) ?? 0) + 1);
      if (creds.password !== 'secret') throw new RegistryError('UNAUTHORIZED', 'bad password');
      const principal: Principal = { subject: creds.username, kind: 'user', provider: 'test-gates', groups: [], admin: false };
      return principal;
    });
    rbac.authorize.tapPromise('rules', async (principal, access) => {
      if (access.resource.name.startsWith('hooks/private')) {
        return principal.subject === 'alice' ? { allow: true } : { allow: false, reason: 'alice only' };
      }
      return { allow: true };
    });
  },
});

describe('registry hooks over HTTP', () => {
  let server: RunningServer;
  let client: OciClient;
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'wharf-hooks-'));
    server = await startServer({
      listen: '127.0.0.1:0', dataDir, plugins: [gates],
      // Open apart from the test's own gates: no db users, projects or tokens in the way.
      overrides: { log: { level: 'silent' }, ...OPEN_REGISTRY, extensions: { 'test-gates': {} } },
    });
    client = new OciClient(server.url);
  });
  after(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const waitFor = async (name: string, repository: string) => {
    for (let i = 0; i < 50 && !events.some((e) => e.name === name && e.repository === repository); i++) await new Promise((r) => setTimeout(r, 20));
    return events.filter((e) => e.name === name && e.repository === repository);
  };

  it('refuses a manifest through beforeManifestPut and stores nothing', async () => {
    const image = imageParts('blocked');
    await client.pushBlob('hooks/gate', image.config);
    await client.pushBlob('hooks/gate', image.layer);
    await assertOciError(await client.putManifest('hooks/gate', 'blocked', image.body, image.mediaType), 403, 'DENIED');
    await assertOciError(await client.fetch(`/v2/hooks/gate/manifests/${image.digest}`), 404, 'MANIFEST_UNKNOWN');
    assert.equal((await client.putManifest('hooks/gate', 'allowed', image.body, image.mediaType)).status, 201);
  });

  it('refuses pulls through beforePull and deletes through beforeDelete', async () => {
    const image = imageParts('gated-pull');
    await client.pushImage('hooks/keep', 'quarantined', image);
    await assertOciError(await client.fetch('/v2/hooks/keep/manifests/quarantined'), 403, 'DENIED');
    await assertOciError(await client.fetch('/v2/hooks/keep/manifests/quarantined', { method: 'DELETE' }), 403, 'DENIED');
    assert.equal((await client.fetch(`/v2/hooks/keep/manifests/${image.digest}`)).status, 200);
  });

  it('reports pushes, commits, mounts, pulls and deletes as events', async () => {
    const image = imageParts('events');
    await client.pushImage('hooks/events', 'v1', image);
    await client.fetch(`/v2/hooks/events2/blobs/uploads/?mount=${image.manifest.layers[0]!.digest}&from=hooks/events`, { method: 'POST' });
    await client.fetch('/v2/hooks/events/manifests/v1');
    await client.fetch('/v2/hooks/events/manifests/v1', { method: 'DELETE' });
    assert.deepEqual((await waitFor('manifestPushed', 'hooks/events')).map((e) => e.detail), ['v1']);
    assert.deepEqual((await waitFor('blobCommitted', 'hooks/events')).map((e) => e.detail), ['false', 'false']);
    assert.deepEqual((await waitFor('blobCommitted', 'hooks/events2')).map((e) => e.detail), ['true']);
    assert.deepEqual((await waitFor('artifactPulled', 'hooks/events')).map((e) => e.detail), ['v1']);
    assert.deepEqual((await waitFor('manifestDeleted', 'hooks/events')).map((e) => e.detail), ['v1']);
  });

  it('lets prepareManifest add headers or refuse before the store is read', async () => {
    const image = imageParts('seam');
    await client.pushImage('hooks/seam', 'v1', image);
    const got = await client.fetch('/v2/hooks/seam/manifests/v1');
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('warning'), '110 - "stale: GET v1"');
    const head = await client.fetch(`/v2/hooks/seam/manifests/${image.digest}`, { method: 'HEAD' });
    assert.equal(head.headers.get('warning'), `110 - "stale: HEAD ${image.digest}"`);
    const missing = await client.fetch('/v2/hooks/seam/manifests/v2');
    assert.equal(missing.headers.get('warning'), null, 'the headers belong to a served manifest, not to an error');
    await assertOciError(missing, 404, 'MANIFEST_UNKNOWN');
    await assertOciError(await client.fetch('/v2/hooks/seam-refused/manifests/v1'), 429, 'TOOMANYREQUESTS');
  });

  it('serves a blob the repository lacks from fetchBlob (GET and HEAD), and only then', async () => {
    const got = await client.fetch(`/v2/hooks/seam/blobs/${SEAM_DIGEST}`);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('docker-content-digest'), SEAM_DIGEST);
    assert.equal(got.headers.get('x-served-by'), 'seam true');
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(SEAM_BLOB));
    const head = await client.fetch(`/v2/hooks/seam/blobs/${SEAM_DIGEST}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(SEAM_BLOB.length));
    await assertOciError(await client.fetch(`/v2/hooks/other/blobs/${SEAM_DIGEST}`), 404, 'BLOB_UNKNOWN');
  });

  it('refuses an upload through beforeUploadStart before anything is created, mounts and monolithic uploads too', async () => {
    await assertOciError(await client.fetch('/v2/hooks/seam-noupload/blobs/uploads/', { method: 'POST' }), 403, 'DENIED');
    const mount = await client.fetch(`/v2/hooks/seam-noupload/blobs/uploads/?mount=${SEAM_DIGEST}&from=hooks/seam`, { method: 'POST' });
    assert.match(await mount.clone().text(), /from hooks\/seam\)/);
    await assertOciError(mount, 403, 'DENIED');
    const monolithic = await client.fetch(`/v2/hooks/seam-noupload/blobs/uploads/?digest=${SEAM_DIGEST}`, { method: 'POST', body: SEAM_BLOB, headers: { 'content-type': 'application/octet-stream' } });
    await assertOciError(monolithic, 403, 'DENIED');
    await assertOciError(await client.fetch('/v2/hooks/seam-noupload/tags/list'), 404, 'NAME_UNKNOWN');
  });

  it('asks authenticate and authorize: anonymous gets 401, the wrong user 403, the right one in', async () => {
    const anonymous = await client.fetch('/v2/hooks/private/tags/list');
    await assertOciError(anonymous, 401, 'UNAUTHORIZED');
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    const basic = (user: string, pw: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` });
    await assertOciError(await client.fetch('/v2/hooks/private/tags/list', { headers: basic('bob', 'secret') }), 403, 'DENIED');
    await assertOciError(await client.fetch('/v2/hooks/private/tags/list', { headers: basic('alice', 'wrong') }), 401, 'UNAUTHORIZED');
    await assertOciError(await client.fetch('/v2/hooks/private/tags/list', { headers: basic('alice', 'secret') }), 404, 'NAME_UNKNOWN');
    const start = await client.fetch('/v2/hooks/private/blobs/uploads/', { method: 'POST', headers: basic('alice', 'secret') });
    assert.equal(start.status, 202);
  });

  it('checks Basic credentials through the kernel authenticator: verified ones are cached, wrong ones always refused', async () => {
    const basic = (pw: string) => ({ authorization: `Basic ${Buffer.from(`carol:${pw}`).toString('base64')}` });
    // A pull is many requests with the same credentials: the provider (a password hash) is asked once.
    for (let i = 0; i < 5; i++) assert.equal((await client.fetch('/v2/hooks/open/tags/list', { headers: basic('secret') })).status, 404);
    assert.equal(checks.get('carol'), 1);
    // Only verified credentials are remembered: a wrong password is asked about, and refused, every time.
    await assertOciError(await client.fetch('/v2/hooks/open/tags/list', { headers: basic('guess') }), 401, 'UNAUTHORIZED');
    await assertOciError(await client.fetch('/v2/hooks/open/tags/list', { headers: basic('guess') }), 401, 'UNAUTHORIZED');
    assert.equal(checks.get('carol'), 3);
  });

  it('requires pull on the source repository of a cross-repository mount', async () => {
    const basic = { authorization: `Basic ${Buffer.from('bob:secret').toString('base64')}` };
    const res = await client.fetch(`/v2/hooks/mine/blobs/uploads/?mount=sha256:${'a'.repeat(64)}&from=hooks/private`, { method: 'POST', headers: basic });
    await assertOciError(res, 403, 'DENIED');
  });
});
