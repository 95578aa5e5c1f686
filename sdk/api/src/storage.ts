import type { Readable } from 'node:stream';
import type { Digest } from './digest.js';

/**
 * The storage driver contract: where blob bytes live. Exactly one driver serves a deployment; it
 * is provided by a `storage` plugin under {@link coreServices.storage}.
 *
 * A driver stores two things:
 * - **blobs**, content-addressed and immutable, visible only after their digest was verified;
 * - **uploads**, byte sequences being appended to. An upload is identified by an id the kernel
 *   picks, and a small JSON `state` the driver returns and the kernel keeps in the metadata
 *   database. Any process holding the id and state can append to, read, commit or abort the
 *   upload: that is what lets a push started on one node finish on another, or after a restart.
 *
 * The kernel computes and verifies digests; drivers never need to hash. All reads and writes
 * stream: a driver never holds a whole blob in memory.
 *
 * @see docs/architecture/03-services.md
 * @since 0.1.0
 */
export interface StorageDriver {
  /** A short name for logs and the boot tree, e.g. `fs` or `s3`. */
  readonly name: string;

  /** Checks the backend is reachable and usable (called once at boot; throw to stop boot). */
  healthCheck(): Promise<void>;

  /** Size of a committed blob, or `undefined` when the blob is not stored. */
  stat(digest: Digest): Promise<BlobStat | undefined>;

  /**
   * Opens a committed blob for reading, whole or the inclusive byte range `[start, end]`.
   * Rejects with a {@link BlobNotFoundError} when the blob is not stored.
   */
  read(digest: Digest, range?: ByteRange): Promise<Readable>;

  /**
   * Optional: a URL the client may fetch the blob from directly (a presigned URL). Returning
   * `undefined` makes the kernel stream the blob itself.
   */
  redirectUrl?(digest: Digest, options: { method: 'GET' | 'HEAD'; expiresInSeconds: number }): Promise<string | undefined>;

  /** Deletes committed blobs. Unknown digests are not an error. Drivers should batch. */
  delete(digests: readonly Digest[]): Promise<void>;

  /**
   * Optional: deletes committed blobs the kernel can describe completely, each with its size and
   * the id of every upload it committed as that digest (some of which the driver may have
   * discarded as duplicates). A driver whose objects are named after the upload (S3's claims)
   * can then delete without looking anything up. Ids the driver kept nothing of are not an
   * error. The kernel calls {@link StorageDriver.delete} for blobs it cannot describe.
   * @since 0.2.0
   */
  deleteCommitted?(blobs: readonly CommittedBlob[]): Promise<void>;

  /** Iterates every committed blob (for garbage collection), in no particular order. */
  list(): AsyncIterable<BlobStat & { digest: Digest }>;

  /** Starts an empty upload and returns its initial state. */
  createUpload(id: string): Promise<UploadState>;

  /**
   * Appends `data` at offset `state.size` and resolves with the new state. The kernel serialises
   * appends to one upload (one writer at a time, enforced through the database), so a driver
   * does not need its own locking. When `data` errors or ends early, the driver must leave the
   * upload as it was before the call or at a consistent, larger size reported by
   * {@link StorageDriver.uploadSize}, and reject with the error of `data` (the kernel maps it
   * to the client's response). Bytes past `state.size` (from an append whose result the kernel
   * did not record) are not part of the upload: the next append overwrites them, and
   * `readUpload` and `commit` never include them.
   */
  append(id: string, state: UploadState, data: Readable): Promise<UploadState>;

  /**
   * The number of bytes durably written to an upload, from the backend itself. The kernel uses
   * it to reconcile its recorded offset after a crash.
   */
  uploadSize(id: string, state: UploadState): Promise<number>;

  /** Reads back the first `state.size` bytes of an unfinished upload (used to compute a digest after a restart). */
  readUpload(id: string, state: UploadState): Promise<Readable>;

  /**
   * Makes the upload's bytes the blob `digest` (already verified by the kernel), atomically:
   * either the whole blob becomes visible or nothing does. Committing a digest that already
   * exists is not an error (concurrent pushes of the same blob are normal); the upload is then
   * simply discarded. Afterwards the upload no longer exists.
   */
  commit(id: string, state: UploadState, digest: Digest): Promise<void>;

  /** Discards an upload and everything it wrote. Unknown uploads are not an error. */
  abort(id: string, state: UploadState): Promise<void>;
}

/**
 * A blob as the kernel recorded its commits: what {@link StorageDriver.deleteCommitted} gets.
 * @since 0.2.0
 */
export interface CommittedBlob {
  readonly digest: Digest;
  readonly size: number;
  /** Every upload committed as this digest since its record was created. */
  readonly uploads: readonly string[];
}

/** What a driver knows about a committed blob. */
export interface BlobStat {
  size: number;
}

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Driver-specific, JSON-serialisable state of an upload, kept by the kernel in the metadata
 * database between requests. `size` is the number of bytes appended so far.
 */
export interface UploadState {
  size: number;
  [key: string]: unknown;
}

/** Thrown by {@link StorageDriver.read} for a blob that is not stored. */
export class BlobNotFoundError extends Error {
  readonly digest: string;
  constructor(digest: string) {
    super(`blob ${digest} not found in storage`);
    this.name = 'BlobNotFoundError';
    this.digest = digest;
  }
}

/** Thrown by upload methods for an upload the backend does not have. */
export class UploadNotFoundError extends Error {
  readonly uploadId: string;
  constructor(uploadId: string) {
    super(`upload ${uploadId} not found in storage`);
    this.name = 'UploadNotFoundError';
    this.uploadId = uploadId;
  }
}

const UPLOAD_ID = /^[A-Za-z0-9_-]{8,128}$/;

/**
 * True for an upload id the kernel could have issued: 8 to 128 characters of `[A-Za-z0-9_-]`.
 * Drivers may build paths or keys from ids that pass this check.
 * @since 0.1.0
 */
export function isUploadId(id: string): boolean {
  return UPLOAD_ID.test(id);
}
