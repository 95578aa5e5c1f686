import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startDockerRegistry, type DockerRegistryHandle } from '@wharf/plugin-replication-oci/test-support/docker-registry';
import { createTestDatabase, pushImage, tinyImage, type TestDatabase, type TestRegistry, type TinyImage } from '@wharf/sdk-testing';
import { admin, bootProxyRegistry, proxyProject, startFaultProxy, type FaultProxy } from './test-support.js';

/**
 * Pull-through against a real upstream: Debian's docker-registry (distribution 2.8), behind a
 * small counting proxy that can answer 429/503 or corrupt blobs. Wharf on SQLite with projects,
 * the replication plugin's endpoints and this plugin.
 */

const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

describe('proxy-cache pull-through from docker-registry', () => {
  let upstream: DockerRegistryHandle;
  let fault: FaultProxy;
  let db: TestDatabase;
  let wharf: TestRegistry;
  let image: TinyImage;
  let pushed: string;

  const v2 = (path: string, init: RequestInit = {}) =>
    fetch(`${wharf.url}/v2/${path}`, { ...init, headers: { authorization: admin, accept: ACCEPT, ...(init.headers as Record<string, string> | undefined) } });

  before(async () => {
    upstream = await startDockerRegistry();
    fault = await startFaultProxy(upstream.url);
    image = tinyImage({ text: 'proxied layer' });
    pushed = (await pushImage(upstream.url, 'mirror/app', '1', image)).digest;
    db = await createTestDatabase('sqlite');
    wharf = await bootProxyRegistry(db);
    await proxyProject(wharf, 'hub', 'upstream', fault.url, 'mirror/');
  });
  after(async () => {
    await wharf?.close();
    await db?.drop();
    await fault?.close();
    await upstream?.stop();
  });

  it('serves a tag from the upstream with its exact bytes and digest, and stores it as ordinary content', async () => {
    const res = await v2('hub/app/manifests/1');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-content-digest'), pushed);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), image.manifest.bytes);
    assert.equal(res.headers.get('warning'), null);
    const tags = await (await v2('hub/app/tags/list')).json() as { tags: string[] };
    assert.deepEqual(tags.tags, ['1']);
  });

  it('streams a blob it lacks from the upstream, then serves it from storage', async () => {
    const before = fault.count('GET', `/blobs/${image.layer.digest}`);
    const res = await v2(`hub/app/blobs/${image.layer.digest}`);
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(`sha256:${createHash('sha256').update(bytes).digest('hex')}`, image.layer.digest);
    assert.equal(fault.count('GET', `/blobs/${image.layer.digest}`), before + 1);
    await eventually('the blob stored', async () => ((await v2(`hub/app/blobs/${image.layer.digest}`, { method: 'HEAD' })).status === 200 && fault.count('GET', `/blobs/${image.layer.digest}`) === before + 1) || undefined);
    const again = await v2(`hub/app/blobs/${image.layer.digest}`);
    assert.deepEqual(Buffer.from(await again.arrayBuffer()), image.layer.bytes);
    assert.equal(fault.count('GET', `/blobs/${image.layer.digest}`), before + 1, 'the second pull is served from storage');
  });

  it('asks the upstream only with a HEAD when the cached digest is current, and never for a pull by digest', async () => {
    const gets = fault.count('GET', '/manifests/');
    const heads = fault.count('HEAD', '/manifests/1');
    assert.equal((await v2('hub/app/manifests/1')).status, 200);
    assert.equal(fault.count('HEAD', '/manifests/1'), heads + 1);
    assert.equal(fault.count('GET', '/manifests/'), gets);
    const seen = fault.seen.length;
    assert.equal((await v2(`hub/app/manifests/${pushed}`)).status, 200);
    assert.equal(fault.seen.length, seen, 'a pull by digest of cached content asks no upstream');
  });

  it('one upstream download serves concurrent pulls of the same blob', async () => {
    const big = tinyImage({ text: 'x'.repeat(300_000) });
    await pushImage(upstream.url, 'mirror/big', 'v1', big);
    assert.equal((await v2('hub/big/manifests/v1')).status, 200);
    let release!: () => void;
    fault.gate = new Promise<void>((r) => (release = r));
    const pulls = Array.from({ length: 5 }, () => v2(`hub/big/blobs/${big.layer.digest}`).then(async (r) => ({ status: r.status, bytes: Buffer.from(await r.arrayBuffer()) })));
    await eventually('the upstream request', async () => fault.count('GET', `/blobs/${big.layer.digest}`) === 1 || undefined);
    await new Promise((r) => setTimeout(r, 200));
    fault.gate = undefined;
    release();
    for (const pull of await Promise.all(pulls)) {
      assert.equal(pull.status, 200);
      assert.ok(pull.bytes.equals(big.layer.bytes));
    }
    assert.equal(fault.count('GET', `/blobs/${big.layer.digest}`), 1, 'the upstream served the blob once');
  });

  it('never commits a blob that does not match its digest', async () => {
    const other = tinyImage({ text: 'corrupt me' });
    await pushImage(upstream.url, 'mirror/bad', '1', other);
    assert.equal((await v2('hub/bad/manifests/1')).status, 200);
    fault.mode = 'corrupt-blobs';
    try {
      // The response is cut (before or after its headers), never completed.
      await assert.rejects(v2(`hub/bad/blobs/${other.layer.digest}`).then((res) => res.arrayBuffer()));
    } finally {
      fault.mode = 'pass';
    }
    await new Promise((r) => setTimeout(r, 200));
    const before = fault.count('GET', `/blobs/${other.layer.digest}`);
    const again = await v2(`hub/bad/blobs/${other.layer.digest}`);
    assert.ok(Buffer.from(await again.arrayBuffer()).equals(other.layer.bytes));
    assert.equal(fault.count('GET', `/blobs/${other.layer.digest}`), before + 1, 'the bad copy was not stored: fetched again');
  });

  it('serves the cached tag stale when the upstream answers 429 or 503, with a Warning header', async () => {
    for (const status of [429, 503]) {
      fault.mode = { status };
      try {
        const res = await v2('hub/app/manifests/1');
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('docker-content-digest'), pushed);
        assert.equal(res.headers.get('warning'), `110 - "stale: upstream answered ${status}"`);
      } finally {
        fault.mode = 'pass';
      }
    }
  });

  it('fails an uncached tag in OCI terms naming the upstream and its answer', async () => {
    fault.mode = { status: 429 };
    try {
      const throttled = await v2('hub/app/manifests/never-cached');
      assert.equal(throttled.status, 429);
      const body = await throttled.json() as { errors: { code: string; message: string }[] };
      assert.equal(body.errors[0]?.code, 'TOOMANYREQUESTS');
      assert.match(body.errors[0]?.message ?? '', /upstream upstream answered 429/);
    } finally {
      fault.mode = 'pass';
    }
    const missing = await v2('hub/app/manifests/no-such-tag');
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { errors: { code: string }[] }).errors[0]?.code, 'MANIFEST_UNKNOWN');
  });

  it('serves the new digest once the tag moved upstream', async () => {
    const moved = tinyImage({ text: 'version two' });
    const digest = (await pushImage(upstream.url, 'mirror/app', '1', moved)).digest;
    const res = await v2('hub/app/manifests/1');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-content-digest'), digest);
  });

  it('refuses pushes into the proxy project with DENIED naming it a proxy cache', async () => {
    const start = await v2('hub/app/blobs/uploads/', { method: 'POST' });
    assert.equal(start.status, 403);
    const body = await start.json() as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]?.code, 'DENIED');
    assert.match(body.errors[0]?.message ?? '', /proxy cache/);
    const put = await v2('hub/app/manifests/pushed', { method: 'PUT', headers: { 'content-type': image.manifest.mediaType }, body: image.manifest.bytes });
    assert.equal(put.status, 403);
    assert.match(await put.text(), /proxy cache/);
  });

  it('lets an administrator delete cached content', async () => {
    const res = await v2(`hub/app/manifests/${pushed}`, { method: 'DELETE' });
    assert.equal(res.status, 202);
  });

  it('fails clearly when the upstream is down and nothing is cached, and serves cached tags stale', async () => {
    await upstream.stop();
    const cached = await v2('hub/big/manifests/v1');
    assert.equal(cached.status, 200);
    assert.match(cached.headers.get('warning') ?? '', /^110 - "stale: upstream answered /);
    const uncached = await v2('hub/other/manifests/1');
    assert.ok(uncached.status === 502 || uncached.status === 503, `status ${uncached.status}`);
    assert.match(await uncached.text(), /upstream upstream answered/);
    const metrics = await fetch(`${wharf.url}/metrics`, { headers: { authorization: admin } }).then((r) => r.text());
    for (const result of ['hit', 'miss', 'stale', 'error']) assert.match(metrics, new RegExp(`wharf_proxy_cache_requests_total\\{upstream="upstream",result="${result}"\\} [1-9]`));
    assert.match(metrics, /wharf_proxy_cache_upstream_bytes_total\{upstream="upstream"\} [1-9]/);
  });
});

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, tries = 200): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
