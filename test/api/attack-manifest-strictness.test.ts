import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startS3rver, type S3rverHandle } from '@wharf/plugin-storage-s3/test-support';
import { assertOciError, withQuery } from './support/client.js';
import { DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, descriptorOf, imageParts, manifestBody, sha256 } from './support/oci.js';
import { startTestRegistry, testDatabaseNames, type TestRegistry } from './support/server.js';

/**
 * The OCI protocol, strictly: what a careless or hostile client sends that a registry must
 * refuse (or answer the way other registries do), over real HTTP against each database.
 * Ambiguous manifests (CVE-2021-41190), Content-Type, descriptor sizes, oversized chunked
 * manifests, uploads whose data vanished, invalid references on reads, and loose numbers.
 */

/** Every directory called `name` below `root`. */
async function findDirs(root: string, name: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isDirectory() && entry.name === name) out.push(path.join(entry.parentPath, entry.name));
  }
  return out;
}

for (const database of testDatabaseNames()) {
  describe(`attack: manifest and protocol strictness (${database})`, () => {
    let reg: TestRegistry;
    const repo = 'strict/app';
    const image = imageParts('strict');
    before(async () => {
      reg = await startTestRegistry(database);
      await reg.client.pushImage(repo, 'v1', image);
    });
    after(() => reg.close());

    it('refuses a body with both layers and manifests, as an image and as an index', async () => {
      const doc = { schemaVersion: 2, config: image.manifest.config, layers: image.manifest.layers, manifests: [descriptorOf(OCI_MANIFEST, image.body)] };
      const body = manifestBody(doc).body;
      await assertOciError(await reg.client.putManifest(repo, 'both-image', body, OCI_MANIFEST), 400, 'MANIFEST_INVALID');
      await assertOciError(await reg.client.putManifest(repo, 'both-index', body, OCI_INDEX), 400, 'MANIFEST_INVALID');
      const index = manifestBody({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [descriptorOf(OCI_MANIFEST, image.body)], config: image.manifest.config });
      await assertOciError(await reg.client.putManifest(repo, 'index-config', index.body, OCI_INDEX), 400, 'MANIFEST_INVALID');
      // The control: the same index without config is fine.
      const clean = manifestBody({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [descriptorOf(OCI_MANIFEST, image.body)] });
      assert.equal((await reg.client.putManifest(repo, 'index-ok', clean.body, OCI_INDEX)).status, 201);
    });

    it('refuses a Content-Type that is not the mediaType of the body, or not a manifest type', async () => {
      await assertOciError(await reg.client.putManifest(repo, 'docker-type', image.body, DOCKER_MANIFEST), 400, 'MANIFEST_INVALID');
      await assertOciError(await reg.client.putManifest(repo, 'plain', image.body, 'text/plain'), 400, 'MANIFEST_INVALID');
      const untyped = manifestBody({ schemaVersion: 2, config: image.manifest.config, layers: image.manifest.layers });
      await assertOciError(await reg.client.putManifest(repo, 'plain-untyped', untyped.body, 'text/plain'), 400, 'MANIFEST_INVALID');
      // A Docker manifest must say it is one.
      await assertOciError(await reg.client.putManifest(repo, 'docker-untyped', untyped.body, DOCKER_MANIFEST), 400, 'MANIFEST_INVALID');
      assert.equal((await reg.client.putManifest(repo, 'oci-untyped', untyped.body, OCI_MANIFEST)).status, 201);
    });

    it('checks every descriptor size against what is stored', async () => {
      const wrongLayer = { ...image.manifest, layers: [{ ...image.manifest.layers[0]!, size: 1 }] };
      await assertOciError(await reg.client.putManifest(repo, 'small-layer', manifestBody(wrongLayer).body, OCI_MANIFEST), 400, 'MANIFEST_INVALID');
      const wrongConfig = { ...image.manifest, config: { ...image.manifest.config, size: image.config.length + 1 } };
      await assertOciError(await reg.client.putManifest(repo, 'big-config', manifestBody(wrongConfig).body, OCI_MANIFEST), 400, 'MANIFEST_INVALID');
      const child = { ...descriptorOf(OCI_MANIFEST, image.body), size: 2 };
      const index = manifestBody({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [child] });
      await assertOciError(await reg.client.putManifest(repo, 'small-child', index.body, OCI_INDEX), 400, 'MANIFEST_INVALID');
      await assertOciError(await reg.client.fetch(`/v2/${repo}/manifests/small-layer`), 404, 'MANIFEST_UNKNOWN');
    });

    it('answers 413 with an OCI error for a chunked manifest over the limit, and keeps serving', async () => {
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= 5 * 1024 * 1024) return controller.close();
          sent += chunk.length;
          controller.enqueue(chunk);
        },
      });
      const res = await reg.client.fetch(`/v2/${repo}/manifests/huge`, {
        method: 'PUT',
        body,
        headers: { 'content-type': OCI_MANIFEST },
        duplex: 'half',
      } as RequestInit);
      await assertOciError(res, 413, 'MANIFEST_INVALID');
      assert.equal((await reg.client.fetch(`/v2/${repo}/manifests/v1`, { headers: { accept: OCI_MANIFEST } })).status, 200);
    });

    it('answers 404 BLOB_UPLOAD_UNKNOWN for an upload whose data is gone from storage', async () => {
      const start = await reg.client.fetch(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
      assert.equal(start.status, 202);
      const location = start.headers.get('location') ?? '';
      const id = start.headers.get('docker-upload-uuid') ?? '';
      const patched = await reg.client.fetch(location, { method: 'PATCH', body: Buffer.from('some bytes'), headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(patched.status, 202);
      const dirs = await findDirs(reg.dataDir, id);
      assert.equal(dirs.length, 1, `the upload directory of ${id}`);
      await rm(dirs[0]!, { recursive: true, force: true });
      const more = await reg.client.fetch(location, { method: 'PATCH', body: Buffer.from('more'), headers: { 'content-type': 'application/octet-stream' } });
      await assertOciError(more, 404, 'BLOB_UPLOAD_UNKNOWN');
      const put = await reg.client.fetch(withQuery(location, { digest: sha256('some bytes') }), { method: 'PUT' });
      await assertOciError(put, 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    it('answers 404 MANIFEST_UNKNOWN to GET and HEAD of an impossible reference, 400 to PUT', async () => {
      for (const ref of ['.INVALID_NAME', '-dash', 'sha256:nothex']) {
        await assertOciError(await reg.client.fetch(`/v2/${repo}/manifests/${ref}`), 404, 'MANIFEST_UNKNOWN');
        const head = await reg.client.fetch(`/v2/${repo}/manifests/${ref}`, { method: 'HEAD' });
        assert.equal(head.status, 404, ref);
      }
      await assertOciError(await reg.client.putManifest(repo, '.INVALID_NAME', image.body, OCI_MANIFEST), 400, 'TAG_INVALID');
    });

    it('accepts plain decimal integers only for n', async () => {
      for (const n of ['0x1', '1e0', '%201', '1.0', '+1', '1%20', '-1', '99999999999999999999']) {
        await assertOciError(await reg.client.fetch(`/v2/${repo}/tags/list?n=${n}`), 400, 'UNSUPPORTED');
        await assertOciError(await reg.client.fetch(`/v2/_catalog?n=${n}`), 400, 'UNSUPPORTED');
      }
      const ok = await reg.client.fetch(`/v2/${repo}/tags/list?n=1`);
      assert.equal(ok.status, 200);
      assert.equal(((await ok.json()) as { tags: string[] }).tags.length, 1);
    });

    it('refuses a malformed Content-Range or Range with numbers beyond safe integers', async () => {
      const start = await reg.client.fetch(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
      const location = start.headers.get('location') ?? '';
      const res = await reg.client.fetch(location, {
        method: 'PATCH',
        body: Buffer.from('x'),
        headers: { 'content-type': 'application/octet-stream', 'content-range': '0-99999999999999999999' },
      });
      await assertOciError(res, 416, 'RANGE_INVALID');
      const blob = await reg.client.fetch(`/v2/${repo}/blobs/${sha256(image.layer)}`, { headers: { range: 'bytes=0-99999999999999999999' } });
      assert.notEqual(blob.status, 500);
    });

    it('keeps the layer media types it was given (control for the checks above)', async () => {
      const res = await reg.client.fetch(`/v2/${repo}/manifests/v1`, { headers: { accept: OCI_MANIFEST } });
      const doc = (await res.json()) as { config: { mediaType: string }; layers: { mediaType: string }[] };
      assert.equal(doc.config.mediaType, OCI_CONFIG);
      assert.equal(doc.layers[0]?.mediaType, OCI_LAYER);
    });
  });
}

describe('attack: an upload whose data vanished from S3 storage (sqlite)', () => {
  const bucket = 'lost-uploads';
  let s3: S3rverHandle;
  let reg: TestRegistry;
  let client: S3Client;
  before(async () => {
    s3 = await startS3rver();
    await s3.createBucket(bucket);
    const options = s3.options(bucket);
    client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: options.accessKeyId!, secretAccessKey: options.secretAccessKey! } });
    reg = await startTestRegistry('sqlite', {
      storage: { s3: { bucket, endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey, prefix: 'registry/' } },
    });
  });
  after(async () => {
    await reg?.close();
    client?.destroy();
    await s3?.stop();
  });

  it('answers 404 BLOB_UPLOAD_UNKNOWN, never 500, after the upload objects were deleted', async () => {
    const repo = 'strict/s3';
    const start = await reg.client.fetch(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    assert.equal(start.status, 202);
    const location = start.headers.get('location') ?? '';
    const id = start.headers.get('docker-upload-uuid') ?? '';
    const first = await reg.client.fetch(location, { method: 'PATCH', body: Buffer.from('s3 bytes'), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(first.status, 202);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'registry/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? '').filter((k) => k.includes(id));
    assert.ok(keys.length > 0, 'the upload has objects');
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
    const more = await reg.client.fetch(location, { method: 'PATCH', body: Buffer.from('more'), headers: { 'content-type': 'application/octet-stream' } });
    await assertOciError(more, 404, 'BLOB_UPLOAD_UNKNOWN');
    await assertOciError(await reg.client.fetch(location), 404, 'BLOB_UPLOAD_UNKNOWN');
  });
});
