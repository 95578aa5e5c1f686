import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { definePlugin, Type } from '@wharf/sdk';
import { basicAuth, callApi, createTestDatabase, pushImage, startTestRegistry, tinyImage, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { admin, bootProxyRegistry } from './test-support.js';

/**
 * The upstream is a second Wharf with token auth (Bearer challenges, `/service/token`): the proxy
 * asks for a token per scope once and keeps it while it is valid, never once per pull (Harbor
 * logs in to Docker Hub on every pull until the login is rate-limited). The upstream counts the
 * tokens it issues through its `auth.tokenIssued` hook.
 */

const UPSTREAM_PASSWORD = 'Upstream-Passw0rd-1';

describe('proxy-cache against a Wharf with token auth', () => {
  let upstream: TestRegistry;
  let db: TestDatabase;
  let wharf: TestRegistry;
  let issued = 0;
  const image = tinyImage({ text: 'behind a token service' });

  before(async () => {
    const counter = definePlugin({
      id: 'token-counter',
      kind: 'extension',
      version: '0.0.0',
      kernel: '^0.1.0',
      configSchema: Type.Object({}, { additionalProperties: false, default: {} }),
      register(ctx) {
        ctx.hooks.auth.tokenIssued.tap(ctx.id, () => void issued++);
      },
    });
    const saved = process.env.WHARF_ADMIN_PASSWORD;
    process.env.WHARF_ADMIN_PASSWORD = UPSTREAM_PASSWORD;
    try {
      upstream = await startTestRegistry({ config: { token: { enabled: true }, auth: [{ db: {} }], extensions: { 'token-counter': {} } }, plugins: [counter] });
    } finally {
      if (saved === undefined) delete process.env.WHARF_ADMIN_PASSWORD;
      else process.env.WHARF_ADMIN_PASSWORD = saved;
    }
    const token = await fetch(`${upstream.url}/service/token?service=wharf&scope=repository:team/app:pull,push`, { headers: { authorization: basicAuth('admin', UPSTREAM_PASSWORD) } });
    const { token: bearer } = (await token.json()) as { token: string };
    await pushImage(upstream.url, 'team/app', '1', image, { authorization: `Bearer ${bearer}` });

    db = await createTestDatabase('sqlite');
    wharf = await bootProxyRegistry(db);
    const api = (method: string, path: string, body?: unknown) => callApi(wharf.url, method, `/api/v1${path}`, { auth: admin, body });
    assert.equal((await api('POST', '/projects', { name: 'cache' })).status, 201);
    assert.equal((await api('POST', '/registries', { name: 'upwharf', type: 'oci', url: upstream.url, username: 'admin', secret: UPSTREAM_PASSWORD })).status, 201);
    assert.equal((await api('PUT', '/projects/cache/proxy-cache', { upstreams: [{ registry: 'upwharf', pathPrefix: 'team/' }] })).status, 200);
  });
  after(async () => {
    await wharf?.close();
    await db?.drop();
    await upstream?.close();
  });

  it('pulls through with one token for the scope, reused by later pulls', async () => {
    const pull = async () => {
      const res = await fetch(`${wharf.url}/v2/cache/app/manifests/1`, { headers: { authorization: admin, accept: image.manifest.mediaType } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), image.manifest.digest);
      await res.arrayBuffer();
    };
    const before = issued;
    await pull();
    const blob = await fetch(`${wharf.url}/v2/cache/app/blobs/${image.layer.digest}`, { headers: { authorization: admin } });
    assert.ok(Buffer.from(await blob.arrayBuffer()).equals(image.layer.bytes));
    const first = issued - before;
    assert.ok(first >= 1 && first <= 2, `tokens for the first pull: ${first}`);
    for (let i = 0; i < 5; i++) await pull();
    assert.equal(issued - before, first, 'later pulls asked for no new token');
  });
});
