import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, it } from 'node:test';
import type { Digest } from '@wharf/sdk';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { blob, openContentFixture, type ContentFixture } from './test-support.js';

// putBlob streams: a 64 MiB blob goes to storage while the process RSS grows by far less than
// the blob (the limit is half of it), so nothing holds the blob whole.

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const LIMIT = 32 * MiB;
const base = randomBytes(MiB);

/**
 * `total` bytes made lazily, 1 MiB at a time: `base` with the chunk number in front (no two
 * chunks alike). Chunks come from a ring of preallocated buffers, so the generator itself adds
 * no garbage to the RSS being measured; backpressure keeps far fewer than RING chunks in flight
 * (and the digest check after the write would catch a reused buffer).
 */
const RING = 16;
const ring = Array.from({ length: RING }, () => Buffer.from(base));
function generated(total: number, onChunk: () => void = () => undefined): Readable {
  let index = 0;
  return new Readable({
    highWaterMark: MiB,
    read() {
      if (index * MiB >= total) return void this.push(null);
      const buffer = ring[index % RING] as Buffer;
      buffer.writeUInt32BE(index, 0);
      const chunk = buffer.subarray(0, Math.min(MiB, total - index * MiB));
      index += 1;
      onChunk();
      this.push(chunk);
    },
  });
}

/** The digest of what {@link generated} makes, computed without allocating its chunks. */
function generatedDigest(total: number): Digest {
  const hash = createHash('sha256');
  const chunk = Buffer.from(base);
  for (let index = 0; index * MiB < total; index++) {
    chunk.writeUInt32BE(index, 0);
    hash.update(chunk.subarray(0, Math.min(MiB, total - index * MiB)));
  }
  return `sha256:${hash.digest('hex')}`;
}

async function digestOf(stream: Readable): Promise<Digest> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

forEachDatabase((_name, create) => {
  let f: ContentFixture;
  before(async () => {
    f = await openContentFixture((await create()).config);
    // Warm the code paths once, so the baseline includes them.
    const warm = blob('memory warm-up');
    await f.content.putBlob('memory/warm', { digest: warm.digest, data: warm.data() });
  });
  after(() => f.close());

  it(`streams a ${SIZE / MiB} MiB blob through putBlob with RSS growth under ${LIMIT / MiB} MiB`, async (t) => {
    const digest = generatedDigest(SIZE);
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const sample = () => {
      peak = Math.max(peak, process.memoryUsage.rss());
    };
    const timer = setInterval(sample, 20);
    try {
      assert.deepEqual(await f.content.putBlob('memory/big', { digest, size: SIZE, data: generated(SIZE, sample) }), { size: SIZE });
    } finally {
      clearInterval(timer);
    }
    const growth = peak - baseline;
    t.diagnostic(`RSS growth ${(growth / MiB).toFixed(1)} MiB`);
    assert.ok(growth < LIMIT, `RSS grew by ${(growth / MiB).toFixed(1)} MiB storing ${SIZE / MiB} MiB (limit ${LIMIT / MiB} MiB)`);
    assert.deepEqual(await f.storage.stat(digest), { size: SIZE });
    const back = await f.blobs.read('memory/big', digest);
    assert.equal(await digestOf(back.stream), digest);
  });
});
