import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Digest, StorageDriver } from '@wharf/sdk';
import { seededStream } from './fixtures/seeded-bytes.js';
import {
  commitAndCheck,
  formatBytes,
  isNamed,
  largeBlobBytes,
  listAll,
  memoryBound,
  nth,
  persisted,
  store,
  uploadId,
} from './fixtures/storage-helpers.js';
import { collect, digestOf, failingStream, hashStream, streamOf } from './fixtures/streams.js';
import { registerChunkTests } from './storage-conformance-chunks.js';

const MiB = 1024 * 1024;
const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' as Digest;

/**
 * Options of {@link runStorageConformance}.
 * @since 0.1.0
 */
export interface StorageConformanceOptions {
  /** Title of the `describe` block, e.g. the driver's name. */
  name: string;
  /**
   * Returns a new driver instance. Called several times: every instance must see the same
   * backend (as several Wharf nodes, or one node before and after a restart, would), and that
   * backend must hold no blobs when the suite starts.
   */
  create(): Promise<StorageDriver>;
  /** Called once for every driver `create()` returned, after all the suite's tests ran. */
  teardown?(driver: StorageDriver): Promise<void>;
  /**
   * Lists what the backend still holds once every driver was torn down: files, objects,
   * unfinished multipart uploads... anything the driver wrote. The suite fails unless it is
   * empty: every upload it started was committed or aborted and every blob it stored deleted.
   * @since 0.1.0
   */
  leftovers?(): Promise<readonly string[]>;
  /**
   * Size of the large-blob test in bytes (default 1 GiB). The environment variable
   * `WHARF_CONFORMANCE_LARGE_BYTES` (bytes, or a number with KiB/MiB/GiB) overrides it.
   */
  largeBlobBytes?: number;
}

/**
 * Registers the storage driver conformance suite: one `describe` with a test per guarantee of
 * the {@link StorageDriver} contract. Call it at the top level of a test file:
 *
 * ```ts
 * runStorageConformance({ name: 'fs', create: async () => new FsStorageDriver({ root }) });
 * ```
 *
 * The tests clean up after themselves: every upload they start is committed or aborted and
 * every blob they commit is deleted, so a backend is empty again afterwards.
 * @since 0.1.0
 */
export function runStorageConformance(options: StorageConformanceOptions): void {
  const largeBytes = largeBlobBytes(options.largeBlobBytes);
  const created: StorageDriver[] = [];
  let primary: StorageDriver | undefined;

  const fresh = async (): Promise<StorageDriver> => {
    const driver = await options.create();
    created.push(driver);
    return driver;
  };
  const main = (): StorageDriver => {
    assert.ok(primary, 'create() failed before the tests ran');
    return primary;
  };

  describe(options.name, () => {
    before(async () => {
      primary = await fresh();
    });

    after(async () => {
      for (const driver of created.reverse()) await options.teardown?.(driver);
      if (options.leftovers) assert.deepEqual(await options.leftovers(), [], 'nothing is left in the backend after teardown');
    });

    it('passes its health check, repeatedly and from a second instance', async () => {
      await main().healthCheck();
      await main().healthCheck();
      await (await fresh()).healthCheck();
    });

    it('round-trips the empty blob', async () => {
      const d = main();
      const id = uploadId();
      const state = persisted(await d.createUpload(id));
      assert.equal(state.size, 0);
      assert.equal(await d.uploadSize(id, state), 0);
      assert.equal((await collect(await d.readUpload(id, state))).length, 0);
      await d.commit(id, state, EMPTY_SHA256);
      try {
        assert.equal((await d.stat(EMPTY_SHA256))?.size, 0);
        assert.equal((await collect(await d.read(EMPTY_SHA256))).length, 0);
        await assert.rejects(d.uploadSize(id, state), isNamed('UploadNotFoundError'));

        // An append of an empty body is a no-op, and committing a stored digest again is fine.
        const again = uploadId();
        const emptyState = persisted(await d.append(again, persisted(await d.createUpload(again)), streamOf()));
        assert.equal(emptyState.size, 0);
        await d.commit(again, emptyState, EMPTY_SHA256);
        assert.equal((await d.stat(EMPTY_SHA256))?.size, 0);
        await assert.rejects(d.uploadSize(again, emptyState), isNamed('UploadNotFoundError'));
      } finally {
        await d.delete([EMPTY_SHA256]);
      }
    });

    it('round-trips small blobs under sha256 and sha512 digests', async () => {
      const d = main();
      const bytes = randomBytes(100_007);
      for (const algorithm of ['sha256', 'sha512'] as const) {
        const digest = await store(d, bytes, algorithm);
        try {
          assert.equal((await d.stat(digest))?.size, bytes.length);
          assert.ok((await collect(await d.read(digest))).equals(bytes), `${algorithm} blob reads back unchanged`);
        } finally {
          await d.delete([digest]);
        }
      }
    });

    it(`round-trips a ${formatBytes(largeBytes)} blob by streaming, in bounded memory`, async () => {
      const d = main();
      const id = uploadId();
      const hash = createHash('sha256');
      const baseline = process.memoryUsage.rss();
      let peak = baseline;
      const sample = (): void => {
        peak = Math.max(peak, process.memoryUsage.rss());
      };
      let state = persisted(await d.createUpload(id));
      const data = seededStream(0x5eed, largeBytes, {
        onChunk: (chunk) => {
          hash.update(chunk);
          sample();
        },
      });
      try {
        state = persisted(await d.append(id, state, data));
      } catch (err) {
        await d.abort(id, state);
        throw err;
      }
      assert.equal(state.size, largeBytes);
      const digest = `sha256:${hash.digest('hex')}` as Digest;
      await d.commit(id, state, digest);
      try {
        assert.equal((await d.stat(digest))?.size, largeBytes);
        const back = await hashStream(await d.read(digest), 'sha256', sample);
        assert.equal(back.size, largeBytes);
        assert.equal(back.digest, digest);
        const growth = peak - baseline;
        const bound = memoryBound(largeBytes);
        assert.ok(growth < bound, `rss grew by ${formatBytes(growth)} for a ${formatBytes(largeBytes)} blob (limit ${formatBytes(bound)})`);
      } finally {
        await d.delete([digest]);
      }
    });

    it('serves inclusive byte ranges: first byte, start, middle, last byte, whole', async () => {
      const d = main();
      const bytes = randomBytes(200_003);
      const digest = await store(d, bytes);
      try {
        const last = bytes.length - 1;
        const ranges: Array<[number, number]> = [[0, 0], [0, 9], [65_530, 65_545], [100_000, 100_999], [last, last], [last - 9, last], [0, last]];
        for (const [start, end] of ranges) {
          const got = await collect(await d.read(digest, { start, end }));
          assert.ok(got.equals(bytes.subarray(start, end + 1)), `range ${start}-${end}`);
        }
      } finally {
        await d.delete([digest]);
      }
    });

    it('reports a missing blob: stat is undefined, read rejects with BlobNotFoundError', async () => {
      const d = main();
      for (const algorithm of ['sha256', 'sha512'] as const) {
        const missing = digestOf(randomBytes(16), algorithm) as Digest;
        assert.equal(await d.stat(missing), undefined);
        await assert.rejects(d.read(missing), isNamed('BlobNotFoundError'));
        await assert.rejects(d.read(missing, { start: 0, end: 0 }), isNamed('BlobNotFoundError'));
      }
    });

    it('continues one upload across three driver instances, then commits it from a fourth', async () => {
      const parts = [randomBytes(70_000), randomBytes(1), randomBytes(123_457)];
      const whole = Buffer.concat(parts);
      const writers = [main(), await fresh(), await fresh()];
      const id = uploadId();
      let state = persisted(await main().createUpload(id));
      let expected = 0;
      for (const [i, part] of parts.entries()) {
        state = persisted(await nth(writers, i).append(id, state, streamOf(part)));
        expected += part.length;
        assert.equal(state.size, expected);
      }
      const committer = await fresh();
      assert.equal(await committer.uploadSize(id, state), whole.length);
      // Like the kernel after a restart: hash what storage holds, then commit under that digest.
      const { digest } = await hashStream(await committer.readUpload(id, state));
      assert.equal(digest, digestOf(whole));
      await committer.commit(id, state, digest as Digest);
      try {
        assert.ok((await collect(await main().read(digest as Digest))).equals(whole));
      } finally {
        await main().delete([digest as Digest]);
      }
    });

    it('resumes an upload after a restart from the size storage reports', async () => {
      const bytes = randomBytes(300_000);
      const id = uploadId();
      const before = await fresh();
      let state = persisted(await before.createUpload(id));
      state = persisted(await before.append(id, state, streamOf(bytes.subarray(0, 120_000))));
      // The new instance knows only what the kernel kept: the id and the state.
      const after = await fresh();
      const size = await after.uploadSize(id, state);
      assert.equal(size, 120_000);
      state = persisted(await after.append(id, { ...state, size }, streamOf(bytes.subarray(size))));
      assert.equal(state.size, bytes.length);
      await commitAndCheck(after, id, state, bytes);
    });

    it('keeps a failed append consistent and lets it be retried from the reported size', async () => {
      const d = main();
      const bytes = randomBytes(200_000);
      const id = uploadId();
      let state = persisted(await d.createUpload(id));
      state = persisted(await d.append(id, state, streamOf(bytes.subarray(0, 50_000))));
      const boom = new Error('client went away mid-body');
      await assert.rejects(d.append(id, state, failingStream(bytes.subarray(50_000, 150_000), boom)), (err: unknown) => {
        // The kernel maps the body's own error (e.g. a size check) to the client's response.
        assert.ok(err instanceof Error && err.message === boom.message, `append rejects with the stream's error, got ${String(err)}`);
        return true;
      });
      const size = await d.uploadSize(id, state);
      assert.ok(size >= 50_000 && size <= 150_000, `size ${size} is between the last good size and what was sent`);
      const kept = await collect(await d.readUpload(id, { ...state, size }));
      assert.ok(kept.equals(bytes.subarray(0, size)), 'the bytes kept are a prefix of what was sent');
      state = persisted(await d.append(id, { ...state, size }, streamOf(bytes.subarray(size))));
      assert.equal(state.size, bytes.length);
      await commitAndCheck(d, id, state, bytes);
    });

    it('ignores bytes past the recorded size: readUpload, commit and the next append', async () => {
      const d = main();
      const good = randomBytes(40_000);
      const next = randomBytes(25_000);
      const junk = randomBytes(9_999);

      // An append that succeeded in storage but that the kernel refused to record (a short body).
      const id = uploadId();
      const recorded = persisted(await d.append(id, persisted(await d.createUpload(id)), streamOf(good)));
      await d.append(id, recorded, streamOf(junk));
      assert.ok((await collect(await d.readUpload(id, recorded))).equals(good), 'readUpload stops at state.size');
      const state = persisted(await d.append(id, recorded, streamOf(next)));
      assert.equal(state.size, good.length + next.length);
      await commitAndCheck(d, id, state, Buffer.concat([good, next]));

      // The same, finished without another append: commit takes exactly state.size bytes.
      const other = uploadId();
      const kept = persisted(await d.append(other, persisted(await d.createUpload(other)), streamOf(good)));
      await d.append(other, kept, streamOf(junk));
      await commitAndCheck(d, other, kept, good);
    });

    it('reads back exactly the appended bytes of an unfinished upload, then commits them', async () => {
      const d = main();
      const parts = [randomBytes(33_333), randomBytes(66_666)];
      const id = uploadId();
      let state = persisted(await d.createUpload(id));
      let sent = Buffer.alloc(0);
      for (const part of parts) {
        state = persisted(await d.append(id, state, streamOf(part.subarray(0, 1000), part.subarray(1000))));
        sent = Buffer.concat([sent, part]);
        assert.ok((await collect(await d.readUpload(id, state))).equals(sent));
      }
      await commitAndCheck(d, id, state, sent);
    });

    it('stores nothing when the caller finds a digest mismatch and aborts', async () => {
      const d = main();
      const bytes = randomBytes(10_000);
      const claimed = digestOf(randomBytes(10_000)) as Digest;
      const id = uploadId();
      const state = persisted(await d.append(id, persisted(await d.createUpload(id)), streamOf(bytes)));
      const actual = (await hashStream(await d.readUpload(id, state))).digest as Digest;
      assert.notEqual(actual, claimed);
      await d.abort(id, state);
      assert.equal(await d.stat(claimed), undefined);
      assert.equal(await d.stat(actual), undefined);
      const listed = await listAll(d);
      assert.ok(!listed.has(claimed) && !listed.has(actual), 'list shows neither digest');
      await assert.rejects(d.uploadSize(id, state), isNamed('UploadNotFoundError'));
    });

    it('lets three uploads of the same content commit concurrently, keeping the blob intact', async () => {
      // Larger than S3's 5 MiB minimum part, so drivers that cut parts have several to join.
      const bytes = randomBytes(6 * MiB + 12_345);
      const digest = digestOf(bytes) as Digest;
      const nodes = [await fresh(), await fresh(), await fresh()];
      const uploads = await Promise.all(
        nodes.map(async (node) => {
          const id = uploadId();
          const state = persisted(await node.append(id, persisted(await node.createUpload(id)), streamOf(bytes)));
          return { node, id, state };
        }),
      );
      await Promise.all(uploads.map(({ node, id, state }) => node.commit(id, state, digest)));
      try {
        assert.equal((await main().stat(digest))?.size, bytes.length);
        assert.ok((await collect(await main().read(digest))).equals(bytes));
        for (const { node, id, state } of uploads) await assert.rejects(node.uploadSize(id, state), isNamed('UploadNotFoundError'));
      } finally {
        await main().delete([digest]);
      }
    });

    it('deletes many blobs in one call, and lists none of them afterwards', async () => {
      const d = main();
      const digests: Digest[] = [];
      for (let i = 0; i < 40; i++) digests.push(await store(d, randomBytes(1 + i * 37)));
      const listed = await listAll(d);
      for (const digest of digests) assert.ok(listed.has(digest), `${digest} listed before the delete`);
      await d.delete([...digests, ...digests.slice(0, 5)]);
      const after = await listAll(d);
      for (const digest of digests) {
        assert.ok(!after.has(digest), `${digest} listed after the delete`);
        assert.equal(await d.stat(digest), undefined);
      }
    });

    it('deletes a blob by the uploads committed as it (deleteCommitted, else delete), keeping others', async () => {
      // What the kernel's collector does (ADR 0037): the digest, its size and every upload it
      // committed, including duplicates the driver discarded and ids it never saw.
      const d = main();
      const bytes = randomBytes(2048);
      const digest = digestOf(bytes) as Digest;
      const other = await fresh();
      const uploads = await Promise.all(
        [d, other, d].map(async (node) => {
          const id = uploadId();
          return { node, id, state: persisted(await node.append(id, persisted(await node.createUpload(id)), streamOf(bytes))) };
        }),
      );
      await Promise.all(uploads.slice(0, 2).map(({ node, id, state }) => node.commit(id, state, digest)));
      const last = nth(uploads, 2);
      await last.node.commit(last.id, last.state, digest);
      const kept = await store(d, randomBytes(2049));
      try {
        const ids = [...uploads.map((u) => u.id), uploadId()];
        if (d.deleteCommitted) await d.deleteCommitted([{ digest, size: bytes.length, uploads: ids }]);
        else await d.delete([digest]);
        assert.equal(await d.stat(digest), undefined);
        assert.equal(await other.stat(digest), undefined, 'gone for every instance');
        await assert.rejects(d.read(digest), isNamed('BlobNotFoundError'));
        assert.ok(!(await listAll(d)).has(digest), 'list does not show it');
        assert.ok((await collect(await d.read(kept))).length === 2049, 'the other blob is untouched');
        if (d.deleteCommitted) await d.deleteCommitted([{ digest, size: bytes.length, uploads: ids }]);
      } finally {
        // Not the digest: the suite's leftovers check then shows any object deleteCommitted missed.
        await d.delete([kept]);
      }
    });

    it('deletes blobs, ignoring unknown digests', async () => {
      const d = main();
      const gone = await store(d, randomBytes(1000));
      const kept = await store(d, randomBytes(1001));
      const unknown = digestOf(randomBytes(8)) as Digest;
      try {
        await d.delete([gone, unknown]);
        assert.equal(await d.stat(gone), undefined);
        await assert.rejects(d.read(gone), isNamed('BlobNotFoundError'));
        assert.equal((await d.stat(kept))?.size, 1001);
        await d.delete([]);
        await d.delete([gone]);
      } finally {
        await d.delete([kept]);
      }
      assert.equal(await d.stat(kept), undefined);
    });

    it('lists exactly the committed blobs with their sizes, not uploads in progress', async () => {
      const d = main();
      const baseline = await listAll(d);
      const blobs = [
        { bytes: Buffer.alloc(0), algorithm: 'sha256' as const },
        { bytes: randomBytes(10), algorithm: 'sha256' as const },
        { bytes: randomBytes(70_000), algorithm: 'sha512' as const },
      ];
      const pending = uploadId();
      const pendingState = persisted(await d.append(pending, persisted(await d.createUpload(pending)), streamOf(randomBytes(500))));
      const digests: Digest[] = [];
      try {
        for (const blob of blobs) digests.push(await store(d, blob.bytes, blob.algorithm));
        const listed = await listAll(d);
        const added = [...listed.keys()].filter((digest) => !baseline.has(digest)).sort();
        assert.deepEqual(added, [...digests].sort());
        for (const [i, digest] of digests.entries()) assert.equal(listed.get(digest), blobs[i]?.bytes.length, `size of ${digest}`);
      } finally {
        await d.delete(digests);
        await d.abort(pending, pendingState);
      }
      assert.deepEqual(await listAll(d), baseline);
    });

    it('aborts an upload: it is gone for every method, and aborting again is fine', async () => {
      const d = main();
      const bytes = randomBytes(4096);
      const id = uploadId();
      const state = persisted(await d.append(id, persisted(await d.createUpload(id)), streamOf(bytes)));
      await d.abort(id, state);
      await assert.rejects(d.uploadSize(id, state), isNamed('UploadNotFoundError'));
      await assert.rejects(d.readUpload(id, state), isNamed('UploadNotFoundError'));
      await assert.rejects(d.append(id, state, streamOf(bytes)), isNamed('UploadNotFoundError'));
      await assert.rejects(d.commit(id, state, digestOf(bytes) as Digest), isNamed('UploadNotFoundError'));
      assert.equal(await d.stat(digestOf(bytes) as Digest), undefined);
      await d.abort(id, state);
      await d.abort(uploadId(), { size: 0 });
    });

    it('returns an absolute URL or undefined from redirectUrl, when the driver has one', async () => {
      const d = main();
      if (typeof d.redirectUrl !== 'function') {
        assert.equal(d.redirectUrl, undefined);
        return;
      }
      const bytes = randomBytes(100_000);
      const digest = await store(d, bytes);
      try {
        // A URL must serve the blob itself: a client that follows the redirect gets these bytes.
        const get = await d.redirectUrl(digest, { method: 'GET', expiresInSeconds: 60 });
        if (get !== undefined) {
          assert.match(new URL(get).protocol, /^https?:$/);
          const res = await fetch(get);
          assert.equal(res.status, 200, `GET ${get}`);
          assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes), 'the redirect URL serves the blob');
          const ranged = await fetch(get, { headers: { range: 'bytes=10-19' } });
          assert.equal(ranged.status, 206, 'the redirect URL honours Range');
          assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(10, 20)));
        }
        const head = await d.redirectUrl(digest, { method: 'HEAD', expiresInSeconds: 60 });
        if (head !== undefined) {
          const res = await fetch(head, { method: 'HEAD' });
          assert.equal(res.status, 200, `HEAD ${head}`);
          assert.equal(res.headers.get('content-length'), String(bytes.length));
        }
        const missing = digestOf(randomBytes(16)) as Digest;
        assert.equal(await d.redirectUrl(missing, { method: 'GET', expiresInSeconds: 60 }), undefined, 'no URL for a blob that is not stored');
      } finally {
        await d.delete([digest]);
      }
    });

    registerChunkTests({ main, fresh });

    it('leaves no blobs behind', async () => {
      assert.deepEqual([...(await listAll(main())).keys()], []);
    });
  });
}
