import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertOciError, withQuery } from './support/client.js';
import { sha256, sha512 } from './support/oci.js';
import { startTestRegistry, testDatabaseNames, type TestRegistry } from './support/server.js';

for (const database of testDatabaseNames()) {
  describe(`blob uploads (${database})`, () => {
    let reg: TestRegistry;
    before(async () => (reg = await startTestRegistry(database)));
    after(() => reg.close());

    it('answers GET /v2/ with the API version header', async () => {
      const res = await reg.client.fetch('/v2/');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
    });

    it('starts an upload with 202, Location and Docker-Upload-UUID', async () => {
      const res = await reg.client.fetch('/v2/up/start/blobs/uploads/', { method: 'POST' });
      assert.equal(res.status, 202);
      const uuid = res.headers.get('docker-upload-uuid');
      assert.ok(uuid);
      assert.equal(res.headers.get('location'), `/v2/up/start/blobs/uploads/${uuid}`);
      assert.equal(res.headers.get('range'), '0-0');
    });

    it('stores a blob pushed with POST then PUT, and serves it', async () => {
      const data = Buffer.from('monolithic blob content');
      const digest = await reg.client.pushBlob('up/mono', data);
      const head = await reg.client.fetch(`/v2/up/mono/blobs/${digest}`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(data.length));
      assert.equal(head.headers.get('docker-content-digest'), digest);
      const get = await reg.client.fetch(`/v2/up/mono/blobs/${digest}`);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), data);
    });

    it('stores a blob sent in a single POST ?digest= (201)', async () => {
      const data = Buffer.from('single request upload');
      const digest = sha256(data);
      const res = await reg.client.fetch(`/v2/up/single/blobs/uploads/?digest=${digest}`, {
        method: 'POST', body: data, headers: { 'content-type': 'application/octet-stream' },
      });
      assert.equal(res.status, 201, await res.text());
      assert.equal(res.headers.get('location'), `/v2/up/single/blobs/${digest}`);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.equal((await reg.client.fetch(`/v2/up/single/blobs/${digest}`, { method: 'HEAD' })).status, 200);
    });

    it('accepts chunks with Content-Range, reports progress, and commits with an empty PUT', async () => {
      const data = Buffer.from('0123456789abcdefghij');
      const start = await reg.client.fetch('/v2/up/chunked/blobs/uploads/', { method: 'POST' });
      let location = start.headers.get('location')!;
      const first = await reg.client.fetch(location, {
        method: 'PATCH', body: data.subarray(0, 10), headers: { 'content-range': '0-9', 'content-type': 'application/octet-stream' },
      });
      assert.equal(first.status, 202);
      assert.equal(first.headers.get('range'), '0-9');
      location = first.headers.get('location')!;
      const status = await reg.client.fetch(location);
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), '0-9');
      const second = await reg.client.fetch(location, {
        method: 'PATCH', body: data.subarray(10), headers: { 'content-range': '10-19', 'content-type': 'application/octet-stream' },
      });
      assert.equal(second.status, 202);
      assert.equal(second.headers.get('range'), '0-19');
      const put = await reg.client.fetch(withQuery(second.headers.get('location')!, { digest: sha256(data) }), { method: 'PUT' });
      assert.equal(put.status, 201, await put.text());
      const get = await reg.client.fetch(`/v2/up/chunked/blobs/${sha256(data)}`);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), data);
    });

    it('refuses an out-of-order chunk with 416 and keeps the upload usable', async () => {
      const start = await reg.client.fetch('/v2/up/order/blobs/uploads/', { method: 'POST' });
      const location = start.headers.get('location')!;
      await reg.client.fetch(location, { method: 'PATCH', body: Buffer.from('abcd'), headers: { 'content-range': '0-3' } });
      const skip = await reg.client.fetch(location, { method: 'PATCH', body: Buffer.from('efgh'), headers: { 'content-range': '8-11' } });
      assert.equal(skip.status, 416);
      assert.equal(skip.headers.get('range'), '0-3');
      const status = await reg.client.fetch(location);
      assert.equal(status.headers.get('range'), '0-3');
      const put = await reg.client.fetch(withQuery(location, { digest: sha256('abcdefgh') }), {
        method: 'PUT', body: Buffer.from('efgh'), headers: { 'content-range': '4-7' },
      });
      assert.equal(put.status, 201, await put.text());
    });

    it('accepts a streamed PATCH without Content-Range, as skopeo and podman send it', async () => {
      const data = Buffer.alloc(3 * 1024 * 1024, 7);
      const start = await reg.client.fetch('/v2/up/stream/blobs/uploads/', { method: 'POST' });
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 3; i++) controller.enqueue(data.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
          controller.close();
        },
      });
      const patch = await reg.client.fetch(start.headers.get('location')!, { method: 'PATCH', body, duplex: 'half' } as RequestInit);
      assert.equal(patch.status, 202);
      assert.equal(patch.headers.get('range'), `0-${data.length - 1}`);
      const put = await reg.client.fetch(withQuery(patch.headers.get('location')!, { digest: sha256(data) }), { method: 'PUT' });
      assert.equal(put.status, 201);
    });

    it('rejects a wrong digest with DIGEST_INVALID and stores nothing', async () => {
      const start = await reg.client.fetch('/v2/up/wrong/blobs/uploads/', { method: 'POST' });
      const wrong = sha256('something else');
      const put = await reg.client.fetch(withQuery(start.headers.get('location')!, { digest: wrong }), {
        method: 'PUT', body: Buffer.from('actual content'),
      });
      await assertOciError(put, 400, 'DIGEST_INVALID');
      assert.equal((await reg.client.fetch(`/v2/up/wrong/blobs/${wrong}`, { method: 'HEAD' })).status, 404);
      assert.equal((await reg.client.fetch(`/v2/up/wrong/blobs/${sha256('actual content')}`, { method: 'HEAD' })).status, 404);
    });

    it('rejects digests with an unknown algorithm or bad syntax', async () => {
      const start = await reg.client.fetch('/v2/up/alg/blobs/uploads/', { method: 'POST' });
      const location = start.headers.get('location')!;
      await assertOciError(await reg.client.fetch(withQuery(location, { digest: 'md5:d41d8cd98f00b204e9800998ecf8427e' }), { method: 'PUT' }), 400, 'DIGEST_INVALID');
      await assertOciError(await reg.client.fetch(withQuery(location, { digest: 'sha256:xyz' }), { method: 'PUT' }), 400, 'DIGEST_INVALID');
      await assertOciError(await reg.client.fetch(location, { method: 'PUT' }), 400, 'DIGEST_INVALID');
    });

    it('stores sha512 blobs', async () => {
      const data = Buffer.from('sha512 content');
      const digest = sha512(data);
      const res = await reg.client.fetch(`/v2/up/sha512/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data });
      assert.equal(res.status, 201, await res.text());
      const get = await reg.client.fetch(`/v2/up/sha512/blobs/${digest}`);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), data);
    });

    it('answers BLOB_UPLOAD_UNKNOWN for unknown, foreign or cancelled uploads', async () => {
      await assertOciError(await reg.client.fetch('/v2/up/unknown/blobs/uploads/aaaaaaaa-0000-0000-0000-000000000000'), 404, 'BLOB_UPLOAD_UNKNOWN');
      await assertOciError(await reg.client.fetch('/v2/up/unknown/blobs/uploads/x'), 404, 'BLOB_UPLOAD_UNKNOWN');
      const start = await reg.client.fetch('/v2/up/mine/blobs/uploads/', { method: 'POST' });
      const uuid = start.headers.get('docker-upload-uuid')!;
      await assertOciError(await reg.client.fetch(`/v2/up/other/blobs/uploads/${uuid}`), 404, 'BLOB_UPLOAD_UNKNOWN');
      const del = await reg.client.fetch(start.headers.get('location')!, { method: 'DELETE' });
      assert.equal(del.status, 204);
      await assertOciError(await reg.client.fetch(start.headers.get('location')!), 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    it('keeps nothing of a truncated upload', async () => {
      const start = await reg.client.fetch('/v2/up/trunc/blobs/uploads/', { method: 'POST' });
      const location = start.headers.get('location')!;
      const digest = sha256(Buffer.alloc(1000, 1));
      await reg.client.raw('PUT', withQuery(location, { digest }), {
        headers: { 'content-length': '1000' }, body: Buffer.alloc(400, 1), endEarly: true,
      });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await reg.client.fetch(`/v2/up/trunc/blobs/${digest}`, { method: 'HEAD' })).status, 404);
      const status = await reg.client.fetch(location);
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), '0-0');
    });

    it('mounts a blob from another repository (201) and falls back to an upload (202)', async () => {
      const data = Buffer.from('mountable');
      const digest = await reg.client.pushBlob('up/source', data);
      const mounted = await reg.client.fetch(`/v2/up/target/blobs/uploads/?mount=${digest}&from=up/source`, { method: 'POST' });
      assert.equal(mounted.status, 201);
      assert.equal(mounted.headers.get('location'), `/v2/up/target/blobs/${digest}`);
      assert.equal((await reg.client.fetch(`/v2/up/target/blobs/${digest}`, { method: 'HEAD' })).status, 200);
      const missing = sha256('not there');
      const fallback = await reg.client.fetch(`/v2/up/target/blobs/uploads/?mount=${missing}&from=up/source`, { method: 'POST' });
      assert.equal(fallback.status, 202);
      assert.ok(fallback.headers.get('location')?.startsWith('/v2/up/target/blobs/uploads/'));
    });

    it('does not serve a blob linked only to another repository', async () => {
      const digest = await reg.client.pushBlob('up/private-a', Buffer.from('only in a'));
      await assertOciError(await reg.client.fetch(`/v2/up/private-b/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
    });
  });
}
