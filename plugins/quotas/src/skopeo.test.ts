import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { ADMIN_PASSWORD, admin, bootRegistry, call } from './test-support.js';

/**
 * skopeo, a real client, pushing into projects whose quotas refuse it: the storage quota at the
 * layer upload and the artifact count at the manifest PUT. skopeo reports `denied` with the
 * registry's message; nothing of the refused push is left; with room, the same push works.
 */

interface Blob { readonly digest: string; readonly size: number; readonly bytes: Buffer }
const blobOf = (bytes: Buffer): Blob => ({ digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length, bytes });

/** An OCI image layout with one image (one random layer of `layerSize` bytes) under `tag`. */
async function writeLayout(dir: string, tag: string, layerSize: number): Promise<{ layer: Blob; manifest: Blob }> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const layer = blobOf(randomBytes(layerSize));
  const config = blobOf(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } })));
  const manifest = blobOf(Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.size }],
  })));
  for (const b of [layer, config, manifest]) await writeFile(join(dir, 'blobs', 'sha256', b.digest.slice(7)), b.bytes);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifest.digest, size: manifest.size, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }));
  return { layer, manifest };
}

/** A pull token for `repository` (token auth is on in this test). */
async function bearer(url: string, repository: string): Promise<string> {
  const res = await fetch(`${url}/service/token?service=wharf&scope=repository:${repository}:pull`, { headers: { authorization: admin } });
  const body = (await res.json()) as { token: string };
  return `Bearer ${body.token}`;
}

describe('quotas with skopeo', () => {
  let db: TestDatabase;
  let registry: TestRegistry;
  let work: string;
  const api = (method: string, path: string, body?: unknown) => call(registry.url, method, `/api/v1${path}`, { auth: admin, ...(body === undefined ? {} : { body }) });

  const skopeo = (args: string[]): Promise<{ code: number; stderr: string }> =>
    new Promise((resolve) => {
      execFile('skopeo', ['--policy', join(work, 'policy.json'), '--tmpdir', join(work, 'tmp'), ...args], { timeout: 60_000 }, (err, _stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr });
      });
    });
  const copy = (layout: string, dest: string) =>
    skopeo(['copy', '--retry-times', '0', '--dest-tls-verify=false', '--dest-creds', `admin:${ADMIN_PASSWORD}`, `oci:${layout}:v1`, `docker://${new URL(registry.url).host}/${dest}`]);

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'quotas-skopeo-'));
    await mkdir(join(work, 'tmp'));
    await writeFile(join(work, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    db = await createTestDatabase('sqlite');
    // Token auth, as clients meet it in production.
    registry = await bootRegistry(db, { overrides: { token: { enabled: true } } });
    for (const name of ['small', 'few']) assert.equal((await api('POST', '/projects', { name })).status, 201);
  });
  after(async () => {
    await registry?.close();
    await db?.drop();
    await rm(work, { recursive: true, force: true });
  });

  it('refuses a layer past the storage quota: skopeo reports denied with the quota and the usage', async () => {
    assert.equal((await api('PUT', '/projects/small/quota', { hard: { storage: 16 * 1024 } })).status, 200);
    const layout = join(work, 'big');
    await writeLayout(layout, 'v1', 20 * 1024);
    const refused = await copy(layout, 'small/app:v1');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /denied/i);
    // skopeo compresses the layer on the way: a little over 20 KiB of random bytes.
    assert.match(refused.stderr, /project small storage quota 16 KiB exceeded: in use 0 B, this blob 20(\.\d+)? KiB/);
    const pushed = /digest=sha256%3A([0-9a-f]{64})/.exec(refused.stderr)?.[1];
    assert.ok(pushed, refused.stderr);
    const head = await fetch(`${registry.url}/v2/small/app/blobs/sha256:${pushed}`, { method: 'HEAD', headers: { authorization: await bearer(registry.url, 'small/app') } });
    assert.equal(head.status, 404, 'the refused blob was not kept');
    assert.equal((await api('GET', '/projects/small/quota')).body.used.storage, 0);

    assert.equal((await api('PUT', '/projects/small/quota', { hard: { storage: '1MiB' } })).status, 200);
    const allowed = await copy(layout, 'small/app:v1');
    assert.equal(allowed.code, 0, allowed.stderr);
    const used = (await api('GET', '/projects/small/quota')).body.used;
    assert.equal(used.count, 1);
    assert.ok(used.storage > 20 * 1024, String(used.storage));
  });

  it('refuses the manifest past the artifact count quota: skopeo reports denied', async () => {
    assert.equal((await api('PUT', '/projects/few/quota', { hard: { count: 1 } })).status, 200);
    const first = join(work, 'first');
    const second = join(work, 'second');
    await writeLayout(first, 'v1', 512);
    const { manifest } = await writeLayout(second, 'v1', 512);
    assert.equal((await copy(first, 'few/app:v1')).code, 0);
    const refused = await copy(second, 'few/app:v2');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /denied/i);
    assert.match(refused.stderr, /project few artifact count quota 1 exceeded: in use 1/);
    const get = await fetch(`${registry.url}/v2/few/app/manifests/${manifest.digest}`, { method: 'HEAD', headers: { authorization: await bearer(registry.url, 'few/app'), accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(get.status, 404);
  });
});
