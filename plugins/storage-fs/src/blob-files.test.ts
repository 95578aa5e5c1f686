import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { constants, fstatSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { releasesChunksOnCallback, type Digest } from '@wharf/sdk';
import { collect, digestOf, streamOf } from '@wharf/sdk-testing';
import { BlobRangeStream, OpenBlobCache, READ_CHUNK } from './blob-files.js';
import { FdWriter } from './fd-writer.js';
import { FsStorageDriver } from './fs-driver.js';
import { closeFd, openFd } from './fs-io.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wharf-fs-files-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(name: string, bytes: Buffer): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return file;
}

/** True once `fd` no longer refers to an open file (closing is asynchronous). */
async function closedSoon(fd: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    try {
      fstatSync(fd);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EBADF') return true;
      throw err;
    }
    await sleep(10);
  }
  return false;
}

/** Serves `stream()` for every request on a local HTTP server and downloads it with a real client. */
async function download(makeStream: () => Readable, abortAfter?: number): Promise<{ body: Buffer; served: Readable }> {
  let served: Readable | undefined;
  const server: Server = createServer((_req, res) => {
    served = makeStream();
    // What koa does with a stream body.
    pipeline(served, res).catch(() => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const body = await new Promise<Buffer>((resolve, reject) => {
      const req = get({ host: '127.0.0.1', port, path: '/' }, (res) => {
        const parts: Buffer[] = [];
        let got = 0;
        res.on('data', (chunk: Buffer) => {
          parts.push(chunk);
          got += chunk.length;
          if (abortAfter !== undefined && got >= abortAfter) {
            req.destroy();
            resolve(Buffer.concat(parts));
          }
        });
        res.on('end', () => resolve(Buffer.concat(parts)));
        res.on('error', reject);
      });
      req.on('error', (err) => (abortAfter === undefined ? reject(err) : undefined));
    });
    assert.ok(served);
    return { body, served };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('OpenBlobCache', () => {
  it('shares one descriptor between readers and closes it only when evicted and unused', async () => {
    const file = await fileWith('shared', Buffer.from('shared bytes'));
    const cache = new OpenBlobCache({ max: 8, idleMs: 60_000 });
    const [a, b] = await Promise.all([cache.acquire(file), cache.acquire(file)]);
    assert.equal(a.fd, b.fd);
    assert.equal(a.size, 12);
    assert.equal(cache.size, 1);
    cache.evict(file);
    assert.equal(cache.size, 0);
    a.release();
    assert.equal(await collect(new BlobRangeStream(b, 7, 11)).then(String), 'bytes', 'still readable while held');
    b.release();
    assert.ok(await closedSoon(a.fd), 'closed once the last holder let go');
  });

  it('keeps idle descriptors up to max, closes idle ones after idleMs, never caches a failed open', async () => {
    const cache = new OpenBlobCache({ max: 2, idleMs: 100 });
    const files = await Promise.all(['one', 'two', 'three'].map((name) => fileWith(name, Buffer.from(name))));
    const fds: number[] = [];
    for (const file of files) {
      const blob = await cache.acquire(file);
      fds.push(blob.fd);
      blob.release();
    }
    assert.equal(cache.size, 2);
    assert.ok(await closedSoon(fds[0]!), 'the least recently used one was closed');
    const missing = path.join(dir, 'missing');
    await assert.rejects(cache.acquire(missing), { code: 'ENOENT' });
    await writeFile(missing, 'now here');
    const late = await cache.acquire(missing);
    assert.equal(late.size, 8);
    late.release();
    await sleep(400);
    assert.equal(cache.size, 0, 'idle descriptors expire');
  });
});

describe('BlobRangeStream', () => {
  const bytes = randomBytes(2 * READ_CHUNK + 12_345);

  it('streams exact bytes and ranges when read as a plain stream, or through a PassThrough', async () => {
    const file = await fileWith('plain', bytes);
    const cache = new OpenBlobCache({ max: 8, idleMs: 60_000 });
    assert.ok((await collect(new BlobRangeStream(await cache.acquire(file), 0, bytes.length - 1))).equals(bytes));
    const start = READ_CHUNK - 3;
    const end = 2 * READ_CHUNK + 5;
    assert.ok((await collect(new BlobRangeStream(await cache.acquire(file), start, end))).equals(bytes.subarray(start, end + 1)));
    // A PassThrough calls back while it still holds the chunk: it must get buffers of its own.
    const through = new PassThrough();
    const piped = new BlobRangeStream(await cache.acquire(file), 0, bytes.length - 1).pipe(through);
    assert.ok((await collect(piped)).equals(bytes));
  });

  it('serves the same bytes to concurrent HTTP responses with reused buffers, and ends them normally', async () => {
    const file = await fileWith('http', bytes);
    const cache = new OpenBlobCache({ max: 8, idleMs: 60_000 });
    const ranges = [
      { start: 0, end: bytes.length - 1 },
      { start: 1, end: READ_CHUNK },
      { start: bytes.length - 10, end: bytes.length - 1 },
    ];
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(
        ranges.map(async ({ start, end }) => {
          const blob = await cache.acquire(file);
          const { body } = await download(() => new BlobRangeStream(blob, start, end));
          return { body, expected: bytes.subarray(start, end + 1) };
        }),
      );
      for (const { body, expected } of results) assert.ok(body.equals(expected), `round ${round}: ${body.length} bytes`);
    }
  });

  it('lends reused buffers to a writable marked releasesChunksOnCallback, fresh ones to any other', async () => {
    const big = randomBytes(6 * READ_CHUNK + 777);
    const file = await fileWith('marked', big);
    const cache = new OpenBlobCache({ max: 8, idleMs: 60_000 });
    /** Pipes a whole-blob stream into a writable that keeps a copy and the ArrayBuffer of each chunk. */
    const drainInto = async (marked: boolean) => {
      const copies: Buffer[] = [];
      const seen = new Set<ArrayBufferLike>();
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          copies.push(Buffer.from(chunk));
          seen.add(chunk.buffer);
          // Calls back later, as a socket does once the bytes are in the kernel.
          setImmediate(done);
        },
      });
      if (marked) Object.assign(sink, { [releasesChunksOnCallback]: true });
      const finished = new Promise((resolve, reject) => sink.on('finish', resolve).on('error', reject));
      new BlobRangeStream(await cache.acquire(file), 0, big.length - 1).pipe(sink);
      await finished;
      return { bytes: Buffer.concat(copies), chunks: copies.length, buffers: seen.size };
    };
    const lent = await drainInto(true);
    assert.ok(lent.bytes.equals(big));
    assert.equal(lent.chunks, 7);
    assert.ok(lent.buffers <= 3, `${lent.buffers} buffers for ${lent.chunks} chunks`);
    const plain = await drainInto(false);
    assert.ok(plain.bytes.equals(big));
    assert.equal(plain.buffers, plain.chunks, 'an unmarked writable gets a buffer of its own per chunk');
  });

  it('lets go of the descriptor when the client goes away mid-download', async () => {
    const file = await fileWith('abort', bytes);
    const cache = new OpenBlobCache({ max: 8, idleMs: 60_000 });
    const blob = await cache.acquire(file);
    const { served } = await download(() => new BlobRangeStream(blob, 0, bytes.length - 1), 64 * 1024);
    for (let i = 0; i < 100 && !served.destroyed; i++) await sleep(10);
    assert.ok(served.destroyed, 'the blob stream was destroyed');
    cache.evict(file);
    assert.ok(await closedSoon(blob.fd), 'its hold was released');
  });
});

describe('FdWriter', () => {
  it('writes many small chunks at an offset, flushing in the background, and flushes the rest', async () => {
    const file = await fileWith('writer', Buffer.from('head:'));
    const parts = Array.from({ length: 300 }, () => randomBytes(7_001));
    const fd = await openFd(file, constants.O_RDWR);
    try {
      const writer = new FdWriter(fd, 5, { flushEvery: 256 * 1024 });
      await pipeline(Readable.from(parts), writer);
      await writer.flush();
      assert.equal(writer.position, 5 + 300 * 7_001);
    } finally {
      await closeFd(fd);
    }
    assert.ok((await readFile(file)).equals(Buffer.concat([Buffer.from('head:'), ...parts])));
  });

  it('fails with the body error and leaves a prefix of what was sent', async () => {
    const file = await fileWith('writer-fail', Buffer.alloc(0));
    const sent = randomBytes(3 * 1024 * 1024);
    const boom = new Error('client went away');
    async function* failing(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 2 * 1024 * 1024; i += 64 * 1024) yield sent.subarray(i, i + 64 * 1024);
      throw boom;
    }
    const fd = await openFd(file, constants.O_RDWR);
    const writer = new FdWriter(fd, 0);
    try {
      await assert.rejects(pipeline(Readable.from(failing()), writer), boom);
    } finally {
      await writer.settled();
      await closeFd(fd);
    }
    const kept = await readFile(file);
    assert.equal(kept.length, writer.position);
    assert.ok(kept.equals(sent.subarray(0, kept.length)));
  });
});

describe('FsStorageDriver blob reads', () => {
  it('forgets a cached descriptor on delete: the blob is gone for reads', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'wharf-fs-evict-'));
    try {
      const driver = new FsStorageDriver({ root });
      await driver.healthCheck();
      const content = Buffer.from('cached then deleted');
      const digest = digestOf(content) as Digest;
      const id = 'evict-upload-1';
      await driver.commit(id, await driver.append(id, await driver.createUpload(id), streamOf(content)), digest);
      assert.ok((await collect(await driver.read(digest))).equals(content));
      await driver.delete([digest]);
      await assert.rejects(driver.read(digest), { name: 'BlobNotFoundError' });
      // Deleted behind the driver's back (another node): a cached descriptor still serves the
      // same, immutable bytes; a fresh driver reports the blob missing.
      const again = 'evict-upload-2';
      await driver.commit(again, await driver.append(again, await driver.createUpload(again), streamOf(content)), digest);
      assert.ok((await collect(await driver.read(digest))).equals(content));
      const hex = digest.slice('sha256:'.length);
      await unlink(path.join(root, 'blobs', 'sha256', hex.slice(0, 2), hex));
      assert.ok((await collect(await driver.read(digest))).equals(content));
      await assert.rejects(new FsStorageDriver({ root }).read(digest), { name: 'BlobNotFoundError' });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
