import { mkdir, open, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { closeSync, createReadStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BlobNotFoundError,
  DIGEST_ALGORITHMS,
  UploadNotFoundError,
  type BlobStat,
  type ByteRange,
  type Digest,
  type DigestAlgorithm,
  type Logger,
  type StorageDriver,
  type UploadState,
} from '@wharf/sdk';
import { DIR_MODE, FILE_MODE, entriesOf, hasCode, openForReading, syncDir, toBytes, writeAll } from './fs-io.js';
import { checkFsRoot } from './health-check.js';
import { FsLayout } from './layout.js';

/** Options of {@link FsStorageDriver}. */
export interface FsStorageDriverOptions {
  /** Directory holding `blobs/` and `uploads/`; created by the health check. */
  root: string;
  /** fsync files and directories before acknowledging writes (default true). */
  fsync?: boolean;
  logger?: Pick<Logger, 'info'>;
}

/** How many files `delete` removes at once. */
const DELETE_BATCH = 32;

/**
 * Blobs and uploads on a local (or shared POSIX) filesystem. Every process pointing at the same
 * root sees the same uploads, so an upload can continue on another instance or after a restart.
 * A blob appears under its final name only through an atomic rename of fully written bytes.
 */
/** An empty stream for an empty blob, closing its descriptor. */
function emptyStream(fd: number): Readable {
  closeSync(fd);
  return Readable.from([], { objectMode: false });
}

/** Read buffer size for blob streams: large reads cut per-chunk overhead on big pulls. */
const READ_CHUNK = 1024 * 1024;

export class FsStorageDriver implements StorageDriver {
  readonly name = 'fs';
  readonly #layout: FsLayout;
  readonly #fsync: boolean;
  readonly #logger: Pick<Logger, 'info'> | undefined;

  constructor(options: FsStorageDriverOptions) {
    this.#layout = new FsLayout(options.root);
    this.#fsync = options.fsync ?? true;
    this.#logger = options.logger;
  }

  /** The absolute storage root. */
  get root(): string {
    return this.#layout.root;
  }

  healthCheck(): Promise<void> {
    return checkFsRoot(this.#layout);
  }

  async stat(digest: Digest): Promise<BlobStat | undefined> {
    const file = this.#layout.blobPath(digest);
    try {
      const info = await stat(file);
      return info.isFile() ? { size: info.size } : undefined;
    } catch (err) {
      if (hasCode(err, 'ENOENT', 'ENOTDIR')) return undefined;
      throw err;
    }
  }

  async read(digest: Digest, range?: ByteRange): Promise<Readable> {
    const file = this.#layout.blobPath(digest);
    if (range) checkRange(range);
    let opened: { fd: number; size: number };
    try {
      opened = await openForReading(file);
    } catch (err) {
      if (hasCode(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) throw new BlobNotFoundError(digest);
      throw err;
    }
    // A numeric fd stream reads with plain fs.read calls: several times faster than a FileHandle
    // stream, whose every read goes through the promise API. The stream closes the fd.
    // An explicit end spares the stream its extra read to find the end of the file.
    const { fd, size } = opened;
    const span = range ?? { start: 0, end: size - 1 };
    if (span.end < span.start) return emptyStream(fd);
    return createReadStream('', { fd, highWaterMark: READ_CHUNK, start: span.start, end: span.end });
  }

  async delete(digests: readonly Digest[]): Promise<void> {
    const files = digests.map((digest) => this.#layout.blobPath(digest));
    for (let i = 0; i < files.length; i += DELETE_BATCH) {
      await Promise.all(files.slice(i, i + DELETE_BATCH).map(unlinkIfPresent));
    }
  }

  async *list(): AsyncIterable<BlobStat & { digest: Digest }> {
    for (const algorithm of Object.keys(DIGEST_ALGORITHMS) as DigestAlgorithm[]) {
      const algDir = this.#layout.algorithmDir(algorithm);
      for await (const prefix of entriesOf(algDir)) {
        if (!prefix.isDirectory()) continue;
        const prefixDir = path.join(algDir, prefix.name);
        for await (const entry of entriesOf(prefixDir)) {
          const digest = entry.isFile() ? FsLayout.digestAt(algorithm, prefix.name, entry.name) : undefined;
          if (!digest) continue;
          const blob = await this.stat(digest); // may have been deleted since the directory was read
          if (blob) yield { digest, size: blob.size };
        }
      }
    }
  }

  async createUpload(id: string): Promise<UploadState> {
    const dir = this.#layout.uploadDir(id);
    await mkdir(this.#layout.uploadsDir, { recursive: true, mode: DIR_MODE });
    try {
      await mkdir(dir, { mode: DIR_MODE });
    } catch (err) {
      if (hasCode(err, 'EEXIST')) throw new Error(`fs storage: upload ${id} already exists`);
      throw err;
    }
    const handle = await open(path.join(dir, 'data'), 'wx', FILE_MODE);
    await handle.close();
    if (this.#fsync) {
      await syncDir(dir);
      await syncDir(this.#layout.uploadsDir);
    }
    return { size: 0 };
  }

  async append(id: string, state: UploadState, data: Readable): Promise<UploadState> {
    const handle = await this.#openUpload(id, state, 'r+');
    let position = state.size;
    try {
      await pipeline(data, async (source: AsyncIterable<unknown>) => {
        for await (const chunk of source) {
          const bytes = toBytes(chunk);
          await writeAll(handle, bytes, position);
          position += bytes.length;
        }
      });
      if (this.#fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    return { ...state, size: position };
  }

  async uploadSize(id: string, _state: UploadState): Promise<number> {
    try {
      return (await stat(this.#layout.uploadData(id))).size;
    } catch (err) {
      if (hasCode(err, 'ENOENT', 'ENOTDIR')) throw new UploadNotFoundError(id);
      throw err;
    }
  }

  async readUpload(id: string, state: UploadState): Promise<Readable> {
    const handle = await this.#openUpload(id, state, 'r');
    if (state.size === 0) {
      await handle.close();
      return Readable.from([], { objectMode: false });
    }
    // Only the acknowledged bytes: a tail past state.size was never confirmed to the client.
    return handle.createReadStream({ start: 0, end: state.size - 1 });
  }

  async commit(id: string, state: UploadState, digest: Digest): Promise<void> {
    const target = this.#layout.blobPath(digest);
    const dir = this.#layout.uploadDir(id);
    const handle = await this.#openUpload(id, state, 'r+');
    try {
      if (this.#fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    if (await this.stat(digest)) {
      // Same content pushed concurrently or earlier: keep the stored blob, drop this copy.
      await rm(dir, { recursive: true, force: true });
      return;
    }
    const blobDir = path.dirname(target);
    const created = await mkdir(blobDir, { recursive: true, mode: DIR_MODE });
    // Atomic on one filesystem: readers see no file or the whole, already synced, file.
    await rename(path.join(dir, 'data'), target);
    if (this.#fsync) {
      await syncDir(blobDir);
      if (created) {
        await syncDir(path.dirname(blobDir));
        await syncDir(this.#layout.blobsDir);
      }
    }
    await rm(dir, { recursive: true, force: true });
  }

  async abort(id: string, _state: UploadState): Promise<void> {
    await rm(this.#layout.uploadDir(id), { recursive: true, force: true });
  }

  /**
   * Opens an upload's data file and makes it exactly `state.size` bytes long. A longer file has
   * a tail the kernel never acknowledged (a crash, or a body that ended early): it is cut off
   * when opened for writing, and never read.
   */
  async #openUpload(id: string, state: UploadState, flags: 'r' | 'r+'): Promise<FileHandle> {
    checkSize(state.size);
    let handle: FileHandle;
    try {
      handle = await open(this.#layout.uploadData(id), flags);
    } catch (err) {
      if (hasCode(err, 'ENOENT', 'ENOTDIR')) throw new UploadNotFoundError(id);
      throw err;
    }
    try {
      const { size } = await handle.stat();
      if (size < state.size) {
        throw new Error(`fs storage: upload ${id} holds ${size} bytes, fewer than the ${state.size} recorded`);
      }
      if (size > state.size && flags === 'r+') {
        this.#logger?.info({ uploadId: id, onDisk: size, recorded: state.size }, 'discarding unacknowledged upload tail');
        await handle.truncate(state.size);
      }
      return handle;
    } catch (err) {
      await handle.close();
      throw err;
    }
  }
}

function checkSize(size: unknown): asserts size is number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new TypeError(`fs storage: invalid upload state size ${String(size)}`);
  }
}

function checkRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`fs storage: invalid byte range ${String(start)}-${String(end)}`);
  }
}

async function unlinkIfPresent(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (err) {
    if (!hasCode(err, 'ENOENT', 'ENOTDIR')) throw err;
  }
}
