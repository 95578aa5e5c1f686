import { mkdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { constants, createReadStream } from 'node:fs';
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
import { BlobRangeStream, OpenBlobCache, READ_CHUNK } from './blob-files.js';
import { FdWriter } from './fd-writer.js';
import {
  DIR_MODE,
  FILE_MODE,
  closeFd,
  entriesOf,
  hasCode,
  openFd,
  sizeOfFd,
  syncData,
  syncDir,
  truncateFd,
} from './fs-io.js';
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
/** Open blob descriptors kept for reuse by later reads, and for how long when unused. */
const OPEN_BLOBS = 128;
const OPEN_BLOB_IDLE_MS = 5000;
/** A long append flushes every this many bytes while it runs, so the final flush is short. */
const FLUSH_EVERY = 4 * 1024 * 1024;

/** An empty byte stream (an empty blob or range). */
function emptyStream(): Readable {
  return Readable.from([], { objectMode: false });
}

/**
 * Blobs and uploads on a local (or shared POSIX) filesystem. Every process pointing at the same
 * root sees the same uploads, so an upload can continue on another instance or after a restart.
 * A blob appears under its final name only through an atomic rename of fully written bytes.
 *
 * Durability (with `fsync`, the default): an append is acknowledged only after its bytes are
 * flushed (`fdatasync`), and the first one also flushes the directory entries that lead to the
 * upload's file; a commit flushes the blob's directory after the rename. Nothing else is flushed:
 * an upload nobody wrote to is worth nothing after a power cut, and bytes an append acknowledged
 * are on disk already when the commit renames them.
 */
export class FsStorageDriver implements StorageDriver {
  readonly name = 'fs';
  readonly #layout: FsLayout;
  readonly #fsync: boolean;
  readonly #logger: Pick<Logger, 'info'> | undefined;
  readonly #openBlobs = new OpenBlobCache({ max: OPEN_BLOBS, idleMs: OPEN_BLOB_IDLE_MS });

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
    let blob;
    try {
      blob = await this.#openBlobs.acquire(file);
    } catch (err) {
      if (hasCode(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) throw new BlobNotFoundError(digest);
      throw err;
    }
    const span = range ?? { start: 0, end: blob.size - 1 };
    if (span.end < span.start) {
      blob.release();
      return emptyStream();
    }
    return new BlobRangeStream(blob, span.start, span.end);
  }

  async delete(digests: readonly Digest[]): Promise<void> {
    const files = digests.map((digest) => this.#layout.blobPath(digest));
    for (const file of files) this.#openBlobs.evict(file);
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
    try {
      await mkdir(dir, { mode: DIR_MODE });
    } catch (err) {
      if (hasCode(err, 'EEXIST')) throw new Error(`fs storage: upload ${id} already exists`);
      if (!hasCode(err, 'ENOENT')) throw err;
      // uploads/ itself is gone (removed by hand since the health check): make it again.
      await mkdir(this.#layout.uploadsDir, { recursive: true, mode: DIR_MODE });
      await mkdir(dir, { mode: DIR_MODE });
    }
    // Not flushed: see the class comment. The first append flushes these entries.
    await closeFd(await openFd(path.join(dir, 'data'), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, FILE_MODE));
    return { size: 0 };
  }

  async append(id: string, state: UploadState, data: Readable): Promise<UploadState> {
    const first = state.size === 0;
    const fd = await this.#openUpload(id, state, 'write');
    try {
      const writer = new FdWriter(fd, state.size, { flushEvery: this.#fsync ? FLUSH_EVERY : undefined });
      try {
        await pipeline(data, writer);
      } finally {
        // Even after an error: no write of ours may run once the descriptor is closed.
        await writer.settled();
      }
      if (this.#fsync) {
        const flushes = [writer.flush()];
        // The first acknowledged bytes also need the entries of the upload's directory and file.
        if (first) flushes.push(syncDir(this.#layout.uploadDir(id)), syncDir(this.#layout.uploadsDir));
        await Promise.all(flushes);
      }
      return { ...state, size: writer.position };
    } finally {
      await closeFd(fd);
    }
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
    const fd = await this.#openUpload(id, state, 'read');
    if (state.size === 0) {
      await closeFd(fd);
      return emptyStream();
    }
    // Only the acknowledged bytes: a tail past state.size was never confirmed to the client.
    return createReadStream('', { fd, highWaterMark: READ_CHUNK, start: 0, end: state.size - 1 });
  }

  async commit(id: string, state: UploadState, digest: Digest): Promise<void> {
    const target = this.#layout.blobPath(digest);
    const dir = this.#layout.uploadDir(id);
    await this.#settleForCommit(id, state);
    const data = path.join(dir, 'data');
    const blobDir = path.dirname(target);
    // Atomic on one filesystem: readers see no file or the whole, already flushed, file. A blob
    // that is already stored (same digest, same bytes) is simply replaced by this copy.
    let newPrefix = false;
    try {
      await rename(data, target);
    } catch (err) {
      if (!hasCode(err, 'ENOENT')) throw err;
      // The first blob under this prefix: make its directory (the upload is still there:
      // #settleForCommit just saw it), then rename again. The parents are flushed even when a
      // concurrent commit made the directory: its flush may not have finished yet.
      newPrefix = true;
      await mkdir(blobDir, { recursive: true, mode: DIR_MODE });
      await rename(data, target);
    }
    const flushes: Promise<void>[] = [removeEmptyDir(dir)];
    if (this.#fsync) {
      flushes.push(syncDir(blobDir));
      if (newPrefix) flushes.push(syncDir(path.dirname(blobDir)), syncDir(this.#layout.blobsDir));
    }
    await Promise.all(flushes);
  }

  async abort(id: string, _state: UploadState): Promise<void> {
    await rm(this.#layout.uploadDir(id), { recursive: true, force: true });
  }

  /**
   * Makes the upload's file exactly `state.size` bytes long before it becomes a blob. The bytes up
   * to there were flushed by the appends that acknowledged them, so this is one `stat` unless a
   * tail has to be cut off.
   */
  async #settleForCommit(id: string, state: UploadState): Promise<void> {
    checkSize(state.size);
    let size: number;
    try {
      size = (await stat(this.#layout.uploadData(id))).size;
    } catch (err) {
      if (hasCode(err, 'ENOENT', 'ENOTDIR')) throw new UploadNotFoundError(id);
      throw err;
    }
    if (size === state.size) return;
    await closeFd(await this.#openUpload(id, state, 'commit'));
  }

  /**
   * Opens an upload's data file, checking it holds at least `state.size` bytes. A longer file has
   * a tail nobody acknowledged (a crash, or a body that ended early): `write` and `commit` cut it
   * off, `read` never reads it. The first append (size 0) truncates on open: nothing to check.
   */
  async #openUpload(id: string, state: UploadState, purpose: 'read' | 'write' | 'commit'): Promise<number> {
    checkSize(state.size);
    const file = this.#layout.uploadData(id);
    const truncateOnOpen = purpose === 'write' && state.size === 0;
    const flags = purpose === 'read' ? constants.O_RDONLY : constants.O_RDWR | (truncateOnOpen ? constants.O_TRUNC : 0);
    let fd: number;
    try {
      fd = await openFd(file, flags);
    } catch (err) {
      if (hasCode(err, 'ENOENT', 'ENOTDIR')) throw new UploadNotFoundError(id);
      throw err;
    }
    if (truncateOnOpen) return fd;
    try {
      const size = await sizeOfFd(fd);
      if (size < state.size) {
        throw new Error(`fs storage: upload ${id} holds ${size} bytes, fewer than the ${state.size} recorded`);
      }
      if (size > state.size && purpose !== 'read') {
        this.#logger?.info({ uploadId: id, onDisk: size, recorded: state.size }, 'discarding unacknowledged upload tail');
        await truncateFd(fd, state.size);
        if (this.#fsync && purpose === 'commit') await syncData(fd);
      }
      return fd;
    } catch (err) {
      await closeFd(fd);
      throw err;
    }
  }
}

/** Removes an upload directory that should be empty now, or whatever an old layout left in it. */
async function removeEmptyDir(dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch (err) {
    if (!hasCode(err, 'ENOTEMPTY', 'EEXIST')) throw err;
    await rm(dir, { recursive: true, force: true });
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
