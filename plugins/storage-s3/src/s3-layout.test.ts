import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CommittedBlob, Digest } from '@wharf/sdk';
import { collect, digestOf, hashStream, streamOf } from '@wharf/sdk-testing';
import { Bucket } from './bucket.js';
import { createS3Client } from './client.js';
import { S3StorageDriver, type S3StorageDriverOptions } from './s3-driver.js';
import { countCommands, listLeftovers, openS3TestTarget, type S3TestTarget } from './test-support.js';

// What the conformance suite cannot see: the key layout, that a commit copies nothing, batched
// deletes, presigned redirects, and the crash windows of commit and abort. Runs against
// s3rver, or the bucket WHARF_S3_TEST_BUCKET names.

const MiB = 1024 * 1024;
const PART = 5 * MiB;

let target: S3TestTarget;
/** A raw client on the same bucket, to look at (or tamper with) what the driver wrote. */
let raw: S3Client;
const opened: S3StorageDriver[] = [];
const prefixes: string[] = [];

before(async () => {
  target = await openS3TestTarget();
  raw = createS3Client(target.options());
});

after(async () => {
  for (const driver of opened) driver.close();
  raw?.destroy();
  await target?.stop();
});

/** A driver on a fresh prefix of this run; the prefix must be empty at the end of the test. */
function driver(extra: Partial<S3StorageDriverOptions> = {}): { d: S3StorageDriver; prefix: string; bucket: string } {
  const options = target.options({ partSize: PART, ...extra });
  const d = new S3StorageDriver(options);
  opened.push(d);
  prefixes.push(options.prefix ?? '');
  return { d, prefix: options.prefix ?? '', bucket: options.bucket };
}

async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function upload(d: S3StorageDriver, bytes: Buffer, id = `layout-${randomBytes(6).toString('hex')}`) {
  const state = await d.append(id, await d.createUpload(id), streamOf(bytes));
  return { id, state, digest: digestOf(bytes) as Digest };
}

/** Bytes of blob data sent by PutObject/UploadPart (markers and claims are JSON or empty). */
function dataBytesSent(client: S3Client): { bytes(): number; reset(): void } {
  let sent = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Body?: unknown; ContentType?: string };
      if ((context.commandName === 'UploadPartCommand' || context.commandName === 'PutObjectCommand') && Buffer.isBuffer(input.Body)) {
        if (input.ContentType !== 'application/json') sent += input.Body.length;
      }
      return next(args);
    },
    { step: 'initialize', name: `wharfDataBytes${randomBytes(3).toString('hex')}` },
  );
  return { bytes: () => sent, reset: () => void (sent = 0) };
}

describe('s3 key layout', () => {
  it('keeps everything under the prefix: data/<upload>, blobs/<alg>/<hex>/<size>.<upload>, uploads/<upload>/', async () => {
    const { d, prefix, bucket } = driver();
    const bytes = randomBytes(1234);
    const { id, state, digest } = await upload(d, bytes);
    const hex = digest.slice('sha256:'.length);
    assert.deepEqual(await keysUnder(bucket, prefix), [`${prefix}data/${id}`, `${prefix}uploads/${id}/marker`]);
    await d.commit(id, state, digest);
    assert.deepEqual(await keysUnder(bucket, prefix), [`${prefix}blobs/sha256/${hex}/1234.${id}`, `${prefix}data/${id}`]);
    if (target.kind === 's3rver') {
      // Nothing outside the prefix either (a real bucket may hold other data).
      const outside = (await keysUnder(bucket, '')).filter((key) => !prefixes.some((p) => key.startsWith(p)));
      assert.deepEqual(outside, []);
    }
    await d.delete([digest]);
    assert.deepEqual(await listLeftovers(raw, bucket, prefix), []);
  });

  it('normalises the prefix and lists only claims of its own prefix', async () => {
    const a = driver();
    const b = new S3StorageDriver({ ...target.options(), prefix: `/${a.prefix.replace(/\/$/, '')}` });
    opened.push(b);
    assert.equal(b.layout.prefix, a.prefix);
    const other = driver();
    const { id, state, digest } = await upload(other.d, randomBytes(10));
    await other.d.commit(id, state, digest);
    assert.deepEqual([...(await collectList(a.d))], [], 'a driver on another prefix sees no blob');
    await other.d.delete([digest]);
  });

  it('ignores stray objects under blobs/ that are not claims', async () => {
    const { d, prefix, bucket } = driver();
    const stray = [`${prefix}blobs/sha256/nothex/1.abcdefgh`, `${prefix}blobs/sha256/${'a'.repeat(64)}/x.abcdefgh`, `${prefix}blobs/readme`];
    for (const key of stray) await raw.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from('x') }));
    try {
      assert.deepEqual(await collectList(d), []);
      assert.equal(await d.stat(`sha256:${'a'.repeat(64)}` as Digest), undefined);
    } finally {
      await raw.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: stray.map((Key) => ({ Key })) } }));
    }
  });
});

async function collectList(d: S3StorageDriver): Promise<string[]> {
  const out: string[] = [];
  for await (const blob of d.list()) out.push(blob.digest);
  return out;
}

describe('s3 commit writes a claim and copies no bytes', () => {
  it('commits a blob smaller than a part with no data written at all, and no copy', async () => {
    const { d } = driver();
    const calls = countCommands(d.client);
    const sent = dataBytesSent(d.client);
    const { id, state, digest } = await upload(d, randomBytes(300_000));
    assert.equal(sent.bytes(), 300_000, 'the append writes the bytes once');
    calls.reset();
    sent.reset();
    await d.commit(id, state, digest);
    assert.equal(sent.bytes(), 0, 'the commit sends no blob bytes');
    for (const copy of ['CopyObject', 'UploadPartCopy', 'UploadPart', 'CompleteMultipartUpload']) assert.equal(calls.counts.get(copy), undefined, `${copy} during commit`);
    await d.delete([digest]);
  });

  it('commits a multi-part blob with CompleteMultipartUpload: no copy, at most the last part sent', async () => {
    const { d } = driver();
    const calls = countCommands(d.client);
    const sent = dataBytesSent(d.client);
    const bytes = randomBytes(3 * PART + 777);
    const { id, state, digest } = await upload(d, bytes);
    calls.reset();
    sent.reset();
    await d.commit(id, state, digest);
    assert.equal(sent.bytes(), 777, 'only the short last part goes out at commit');
    assert.equal(calls.counts.get('CompleteMultipartUpload'), 1);
    for (const copy of ['CopyObject', 'UploadPartCopy']) assert.equal(calls.counts.get(copy), undefined, `${copy} during commit`);
    const back = await hashStream(await d.read(digest));
    assert.equal(back.digest, digest);

    // A blob that is a whole number of parts: the commit sends nothing at all.
    const exact = randomBytes(2 * PART);
    const second = await upload(d, exact);
    sent.reset();
    await d.commit(second.id, second.state, second.digest);
    assert.equal(sent.bytes(), 0);
    await d.delete([digest, second.digest]);
  });

  it('completes a multipart upload once when readUpload sealed it before the commit', async () => {
    const { d } = driver();
    const calls = countCommands(d.client);
    const bytes = randomBytes(PART + 10);
    const { id, state, digest } = await upload(d, bytes);
    assert.equal((await hashStream(await d.readUpload(id, state))).digest, digest);
    assert.equal((await hashStream(await d.readUpload(id, state))).digest, digest, 'a second read-back reuses the seal');
    await d.commit(id, state, digest);
    assert.equal(calls.counts.get('CompleteMultipartUpload'), 1);
    assert.ok((await collect(await d.read(digest))).equals(bytes));
    await d.delete([digest]);
  });
});

describe('s3 crash windows', () => {
  it('keeps the blob when an upload committed before a crash is aborted later', async () => {
    const { d, prefix, bucket } = driver();
    const bytes = randomBytes(5000);
    const { id, state, digest } = await upload(d, bytes);
    await d.commit(id, state, digest);
    // The process died after writing the claim, before removing the marker.
    await raw.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}uploads/${id}/marker`, Body: JSON.stringify({ v: 1, committing: digest }) }));
    await d.abort(id, state);
    assert.ok((await collect(await d.read(digest))).equals(bytes), 'the blob survives the abort');
    assert.deepEqual(await keysUnder(bucket, `${prefix}uploads/`), []);
    await d.delete([digest]);
  });

  it('finishes a commit retried after a crash between the claim and the cleanup', async () => {
    const { d, prefix, bucket } = driver();
    const bytes = randomBytes(PART + 3);
    const { id, state, digest } = await upload(d, bytes);
    await d.commit(id, state, digest);
    await raw.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}uploads/${id}/marker`, Body: JSON.stringify({ v: 1, committing: digest }) }));
    await d.commit(id, state, digest);
    assert.ok((await collect(await d.read(digest))).equals(bytes));
    assert.deepEqual(await keysUnder(bucket, `${prefix}uploads/`), []);
    await d.delete([digest]);
  });

  it('lists a blob claimed twice (two commits that raced) once, and deletes both copies', async () => {
    const { d, prefix, bucket } = driver();
    const bytes = randomBytes(2000);
    const first = await upload(d, bytes);
    const second = await upload(d, bytes);
    await d.commit(first.id, first.state, first.digest);
    // The race: the second commit looked for claims before the first wrote its own.
    await raw.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}blobs/sha256/${first.digest.slice(7)}/2000.${second.id}`, Body: Buffer.alloc(0) }));
    await raw.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: `${prefix}uploads/${second.id}/marker` }] } }));
    assert.deepEqual(await collectList(d), [first.digest]);
    assert.equal((await d.stat(first.digest))?.size, 2000);
    await d.delete([first.digest]);
    assert.deepEqual(await listLeftovers(raw, bucket, prefix), [], 'both claims and both data objects are gone');
  });

  it('commits anew over a claim whose data a half-finished delete already removed', async () => {
    const { d, prefix, bucket } = driver();
    const bytes = randomBytes(3000);
    const first = await upload(d, bytes);
    await d.commit(first.id, first.state, first.digest);
    // A delete died between its two batches: the data is gone, the claim is still there.
    await raw.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: `${prefix}data/${first.id}` }] } }));
    await assert.rejects(d.read(first.digest), (err: unknown) => err instanceof Error && err.name === 'BlobNotFoundError');
    const second = await upload(d, bytes);
    await d.commit(second.id, second.state, second.digest);
    assert.ok((await collect(await d.read(second.digest))).equals(bytes), 'the new push makes the blob readable again');
    await d.delete([second.digest]);
    assert.deepEqual(await listLeftovers(raw, bucket, prefix), []);
  });

  it('rejects a tampered upload state before building any key from it', async () => {
    const { d } = driver();
    const { id, state } = await upload(d, randomBytes(10));
    const calls = countCommands(d.client);
    const bad = [
      { ...state, pending: [{ name: '../../etc', start: 0, size: 10 }] },
      { ...state, size: 11 },
      { ...state, partSize: 1024 },
      { ...state, etags: ['"x"'] },
      { ...state, pending: [{ name: 'data', start: -1, size: 10 }] },
    ];
    for (const tampered of bad) {
      await assert.rejects(d.append(id, tampered, streamOf(Buffer.from('x'))), TypeError);
      await assert.rejects(d.readUpload(id, tampered), TypeError);
      await assert.rejects(d.commit(id, tampered, digestOf(Buffer.from('x')) as Digest), TypeError);
    }
    // Only the markers were read: no object was written or read through a tampered name.
    assert.deepEqual([...calls.counts.keys()], ['GetObject']);
    await d.abort(id, state);
  });
});

describe('s3 batched deletes and redirects', () => {
  it('deletes in DeleteObjects batches of at most 1,000 keys, every data object before any claim', async () => {
    const { d, prefix, bucket } = driver();
    // 1,001 committed blobs known by digest, size and upload id: deleteCommitted builds their
    // 2,002 keys without listing. Three of them are written; DeleteObjects counts absent keys as
    // deleted, so the rest need not exist for the batching to show.
    const blobs: CommittedBlob[] = [];
    for (let i = 0; i < 1001; i++) {
      const bytes = Buffer.from(`blob ${i}`);
      blobs.push({ digest: digestOf(bytes) as Digest, size: bytes.length, uploads: [`bulk-${String(i).padStart(6, '0')}`] });
    }
    for (const i of [0, 999, 1000]) {
      const { id, state, digest } = await upload(d, Buffer.from(`blob ${i}`), blobs[i]?.uploads[0]);
      await d.commit(id, state, digest);
    }
    const batches: { size: number; first: string }[] = [];
    d.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DeleteObjectsCommand') {
          const objects = (args.input as { Delete: { Objects: { Key: string }[] } }).Delete.Objects;
          batches.push({ size: objects.length, first: (objects[0]?.Key ?? '').slice(prefix.length).split('/')[0] ?? '' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'countDeleteBatches' },
    );
    await d.deleteCommitted(blobs);
    assert.deepEqual(batches.map((b) => b.size), [1000, 1, 1000, 1], '1,000 keys a request');
    assert.deepEqual(batches.map((b) => b.first), ['data', 'data', 'blobs', 'blobs'], 'data objects first, then claims');
    for (const i of [0, 999, 1000]) await assert.rejects(d.read(blobs[i]!.digest), (err: unknown) => err instanceof Error && err.name === 'BlobNotFoundError');
    assert.deepEqual(await listLeftovers(raw, bucket, prefix), []);
  });

  it('lists page by page, following continuation tokens', async () => {
    const { d, prefix, bucket } = driver();
    const keys = ['a', 'b', 'c', 'd', 'e'].map((k) => `${prefix}paged/${k}`);
    for (const Key of keys) await raw.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Buffer.from('x') }));
    const pages = countCommands(d.client);
    const listed: string[] = [];
    for await (const object of new Bucket(d.client, d.client, { bucket, endpointLabel: 's3rver' }).list(`${prefix}paged/`, { pageSize: 2 })) listed.push(object.key);
    assert.deepEqual(listed, keys);
    assert.equal(pages.counts.get('ListObjectsV2'), 3, 'pages of 2, 2 and 1');
    await raw.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
  });

  it('redirects GET to a presigned URL only when enabled, with the public endpoint if one is set', async () => {
    const plain = driver();
    const enabled = driver({ redirect: { enabled: true } });
    const bytes = randomBytes(4321);
    const { id, state, digest } = await upload(enabled.d, bytes);
    await enabled.d.commit(id, state, digest);
    try {
      const url = await enabled.d.redirectUrl(digest, { method: 'GET', expiresInSeconds: 300 });
      assert.ok(url, 'a URL when enabled');
      assert.match(url, /X-Amz-Signature=/);
      assert.match(url, /X-Amz-Expires=300/);
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes));

      // Same bucket and prefix, redirects disabled: the kernel streams instead.
      const sameStore = new S3StorageDriver({ ...target.options(), prefix: enabled.prefix });
      opened.push(sameStore);
      assert.equal(await sameStore.redirectUrl(digest, { method: 'GET', expiresInSeconds: 300 }), undefined);
      assert.equal(await plain.d.redirectUrl(digest, { method: 'GET', expiresInSeconds: 300 }), undefined);

      const publicUrl = new S3StorageDriver({ ...target.options(), prefix: enabled.prefix, redirect: { enabled: true, publicEndpoint: 'https://blobs.example.com' } });
      opened.push(publicUrl);
      const rewritten = new URL((await publicUrl.redirectUrl(digest, { method: 'GET', expiresInSeconds: 300 })) ?? '');
      assert.equal(rewritten.protocol, 'https:');
      assert.match(rewritten.hostname, /(^|\.)blobs\.example\.com$/, 'presigned for the public endpoint');
    } finally {
      await enabled.d.delete([digest]);
    }
  });
});
