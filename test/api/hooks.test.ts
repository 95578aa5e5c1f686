import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '@wharf/core';
import { RegistryError, Type, definePlugin, type Principal } from '@wharf/sdk';
import { OciClient, assertOciError } from './support/client.js';
import { imageParts } from './support/oci.js';
import { OPEN_REGISTRY } from './support/server.js';

/**
 * The registry's hooks, driven over real HTTP by a plugin loaded the production way: policy
 * gates refuse with OCI errors and store nothing, events report what happened, and auth/RBAC
 * taps decide who may do what.
 */
const events: { name: string; repository: string; detail: string }[] = [];
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
