import { createHash, type Hash } from 'node:crypto';

/**
 * Running sha256 hashes of uploads, kept by the process that received their bytes.
 *
 * A hash state cannot be persisted, so this is only a cache: the upload itself lives in the
 * database and the storage driver. When the process that finishes an upload has a hash whose
 * offset matches the upload's size, it uses it; otherwise (another node appended, a restart, a
 * sha512 digest) the kernel re-reads the upload from storage to hash it. Bounded, oldest first out.
 */
export class UploadHashes {
  readonly #entries = new Map<string, { hash: Hash; offset: number }>();

  constructor(private readonly limit = 1024) {}

  /** The hash to continue at `offset`, or a fresh one at 0; `undefined` if the cached offset differs. */
  continueAt(uploadId: string, offset: number): Hash | undefined {
    const entry = this.#entries.get(uploadId);
    if (entry && entry.offset === offset) {
      this.#entries.delete(uploadId);
      return entry.hash;
    }
    this.#entries.delete(uploadId);
    return offset === 0 ? createHash('sha256') : undefined;
  }

  /** Keeps the hash of an upload that now holds `offset` bytes. */
  save(uploadId: string, hash: Hash, offset: number): void {
    this.#entries.delete(uploadId);
    this.#entries.set(uploadId, { hash, offset });
    if (this.#entries.size > this.limit) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  /** The sha256 digest of an upload of `size` bytes, if this process saw all of them. */
  digestIfComplete(uploadId: string, size: number): string | undefined {
    const entry = this.#entries.get(uploadId);
    if (!entry || entry.offset !== size) return undefined;
    this.#entries.delete(uploadId);
    return `sha256:${entry.hash.digest('hex')}`;
  }

  forget(uploadId: string): void {
    this.#entries.delete(uploadId);
  }
}
