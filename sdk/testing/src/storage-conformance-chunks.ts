import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import type { Digest, StorageDriver } from '@wharf/sdk';
import { commitAndCheck, nth, persisted, uploadId } from './fixtures/storage-helpers.js';
import { digestOf, failingStream, hashStream, streamOf } from './fixtures/streams.js';

const MiB = 1024 * 1024;

/** Splits `bytes` into stream chunks of uneven sizes, as a network delivers a body. */
function unevenChunks(bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  const sizes = [1, 1000, 65_536, 1_000_003, 3];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = nth(sizes, i % sizes.length);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/**
 * Tests of appends measured in MiB: drivers that cut uploads into parts (S3's multipart
 * uploads take parts of at least 5 MiB but the last) must get every boundary right, across
 * driver instances, after a read-back and after appends the kernel never recorded.
 */
export function registerChunkTests(suite: { main(): StorageDriver; fresh(): Promise<StorageDriver> }): void {
  it('appends uneven chunks across multi-MiB boundaries from alternating instances, with a read-back midway', async () => {
    const sizes = [1, 5 * MiB - 1, 3 * MiB + 17, 0, 9 * MiB + 7, 64 * 1024, 6 * MiB];
    const whole = randomBytes(sizes.reduce((a, b) => a + b, 0));
    const nodes = [suite.main(), await suite.fresh(), await suite.fresh()];
    const id = uploadId();
    let state = persisted(await suite.main().createUpload(id));
    let offset = 0;
    for (const [i, size] of sizes.entries()) {
      const writer = nth(nodes, i % 2);
      state = persisted(await writer.append(id, state, streamOf(...unevenChunks(whole.subarray(offset, offset + size)))));
      offset += size;
      assert.equal(state.size, offset, `size after append ${i}`);
      if (i === 2) {
        // Like a kernel that must hash bytes another node received: read back, then go on.
        const back = await hashStream(await nth(nodes, 2).readUpload(id, state));
        assert.equal(back.size, offset);
        assert.equal(back.digest, digestOf(whole.subarray(0, offset)), 'readUpload returns the bytes appended so far');
        // An append whose result was never recorded (a body that ended short): ignored from here on.
        await nth(nodes, 2).append(id, state, streamOf(randomBytes(6 * MiB + 3)));
      }
    }
    assert.equal(await nth(nodes, 2).uploadSize(id, state), whole.length);
    await commitAndCheck(nth(nodes, 2), id, state, whole);
  });

  it('keeps an append that fails after several MiB consistent, and lets it be retried from the reported size', async () => {
    const d = suite.main();
    const bytes = randomBytes(20 * MiB);
    const id = uploadId();
    let state = persisted(await d.createUpload(id));
    state = persisted(await d.append(id, state, streamOf(bytes.subarray(0, 2 * MiB + 5))));
    const boom = new Error('connection reset mid-body');
    await assert.rejects(d.append(id, state, failingStream(bytes.subarray(2 * MiB + 5, 14 * MiB), boom)), (err: unknown) => {
      assert.ok(err instanceof Error && err.message === boom.message, `append rejects with the stream's error, got ${String(err)}`);
      return true;
    });
    const size = await d.uploadSize(id, state);
    assert.ok(size >= 2 * MiB + 5 && size <= 14 * MiB, `size ${size} is between the last good size and what was sent`);
    const kept = await hashStream(await d.readUpload(id, { ...state, size }));
    assert.equal(kept.digest, digestOf(bytes.subarray(0, size)), 'the bytes kept are a prefix of what was sent');
    state = persisted(await d.append(id, { ...state, size }, streamOf(...unevenChunks(bytes.subarray(size)))));
    assert.equal(state.size, bytes.length);
    await commitAndCheck(d, id, state, bytes);
  });

  it('aborts an upload of several MiB from another instance, leaving nothing stored', async () => {
    const bytes = randomBytes(11 * MiB + 1);
    const id = uploadId();
    const writer = suite.main();
    const state = persisted(await writer.append(id, persisted(await writer.createUpload(id)), streamOf(...unevenChunks(bytes))));
    const other = await suite.fresh();
    await other.abort(id, state);
    await assert.rejects(writer.uploadSize(id, state), (err: unknown) => err instanceof Error && err.name === 'UploadNotFoundError');
    assert.equal(await other.stat(digestOf(bytes) as Digest), undefined);
  });
}
