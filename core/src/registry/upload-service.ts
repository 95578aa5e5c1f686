import { randomUUID } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { RegistryError, UploadNotFoundError, isUploadId, parseDigest, type BlobCommitContext, type Digest, type KernelHooks, type StorageDriver } from '@wharf/sdk';
import type { Logger } from 'pino';
import type { EventRecorder } from '../events/events-runtime.js';
import { registryDrafts, type ActorInfo } from '../events/registry-drafts.js';
import type { MetadataStore, UploadRecord } from '../metadata/types.js';
import { MeteredStream, digestStream } from './streams.js';
import { UploadHashes } from './upload-hashes.js';

/**
 * How long an upload commit's reservation keeps garbage collection off its digest (ADR 0029):
 * far longer than any commit takes, and only a delay for a collection, never a hold on data.
 */
const RESERVATION_MS = 60 * 60_000;
/** How long a commit waits for a collection to finish deleting the same digest, and how often it looks. */
const RESERVE_WAIT_MS = 30_000;
const RESERVE_POLL_MS = 50;
/** A mount that found the blob claimed by garbage collection (the client uploads it instead). */
const NOT_MOUNTED = new Error('blob claimed by garbage collection');

/** The answer when garbage collection holds the digest longer than a commit waits: retry later. */
function collecting(digest: Digest): RegistryError {
  return new RegistryError('UNKNOWN', 'the blob is being garbage-collected; retry the upload', {
    status: 503,
    headers: { 'Retry-After': '1' },
    detail: { digest },
  });
}

/** How a chunk announces itself: `Content-Range` (inclusive) and/or `Content-Length`. */
export interface ChunkInfo {
  readonly range: { start: number; end: number } | undefined;
  readonly length: number | undefined;
}

export interface UploadServiceDeps {
  readonly storage: StorageDriver;
  readonly metadata: MetadataStore;
  readonly logger: Logger;
  /** How long one writer may hold an upload without renewing its lease. */
  readonly leaseMs: number;
  /** Durable events, written in the same transaction as the blob link. */
  readonly events: EventRecorder;
  /** For the `registry.beforeBlobCommit` gate (no gate when absent). */
  readonly hooks?: KernelHooks | undefined;
  /** Bounds on open uploads (none when absent). */
  readonly limits?: { readonly perRepository: number; readonly perOwner: number } | undefined;
}

/**
 * Blob uploads: the state machine behind POST/PATCH/PUT/GET/DELETE `/blobs/uploads/`.
 * All state lives in the metadata store and the storage driver, so any node can continue an
 * upload, including after a crash. One writer at a time, enforced by a lease in the database.
 */
export class UploadService {
  readonly #hashes = new UploadHashes();

  constructor(private readonly deps: UploadServiceDeps) {}

  /**
   * Opens an upload for `owner` (who asks: a principal, or an anonymous client's address).
   * Beyond the configured bounds on open uploads, `TOOMANYREQUESTS`: one caller must not hold
   * storage and rows without limit. Across nodes the count may overshoot by the uploads being
   * opened at the same moment, never by more.
   */
  async start(repository: string, owner?: string): Promise<UploadRecord> {
    const { limits, metadata } = this.deps;
    if (limits) {
      if ((await metadata.countOpenUploads({ repository })) >= limits.perRepository) {
        throw tooManyUploads(`repository ${repository} has ${limits.perRepository} open uploads`, limits.perRepository);
      }
      if (owner !== undefined && (await metadata.countOpenUploads({ owner })) >= limits.perOwner) {
        throw tooManyUploads(`you hold ${limits.perOwner} open uploads`, limits.perOwner);
      }
    }
    const id = randomUUID();
    const state = await this.deps.storage.createUpload(id);
    await metadata.createUpload({ id, repository, state, owner });
    const now = new Date();
    return { id, repository, state, createdAt: now, updatedAt: now };
  }

  /** The upload, if it belongs to `repository`; else `BLOB_UPLOAD_UNKNOWN`. */
  async get(repository: string, id: string): Promise<UploadRecord> {
    const upload = isUploadId(id) ? await this.deps.metadata.getUpload(id) : undefined;
    if (!upload || upload.repository !== repository) {
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { detail: { uuid: id.slice(0, 128) } });
    }
    return upload;
  }

  /** Appends one chunk (PATCH, or the body of the final PUT). */
  async append(repository: string, id: string, body: Readable, chunk: ChunkInfo): Promise<UploadRecord> {
    return this.#withLease(id, async (lease) => {
      const upload = await this.get(repository, id);
      return this.#appendLocked(upload, body, chunk).catch((err: unknown) => this.#lostData(upload, err, lease));
    });
  }

  /** Finishes an upload: appends the optional last chunk, verifies the digest, commits, links. */
  async finish(repository: string, id: string, digest: Digest, body: Readable | undefined, chunk: ChunkInfo, actor?: ActorInfo): Promise<{ size: number }> {
    return this.#withLease(id, async (lease) => {
      let upload = await this.get(repository, id);
      const started = upload;
      try {
        if (body) upload = await this.#appendLocked(upload, body, chunk);
        return await this.#commit(upload, digest, lease, actor);
      } catch (err) {
        return this.#lostData(started, err, lease);
      }
    });
  }

  /** Verifies the digest and commits the upload (the caller holds the lease). */
  async #commit(upload: UploadRecord, digest: Digest, lease: { gone(): void }, actor: ActorInfo | undefined): Promise<{ size: number }> {
    const { repository, id } = upload;
    const { storage, metadata } = this.deps;
    const actual = await this.#digestOf(upload, digest);
    if (actual !== digest) {
      await this.#discard(upload);
      lease.gone();
      throw new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
        detail: { expected: digest, size: upload.state.size },
      });
    }
    const gate = this.#gateContext(repository, digest, upload.state.size, undefined, actor);
    await this.#gated(gate, async () => {
      // The reservation keeps garbage collection off this digest while its bytes move into
      // place (ADR 0029); a collection deleting it right now is waited out.
      const reservation = await this.#reserve(digest, upload.state.size, id);
      try {
        // Committing a digest that is already stored (a concurrent or earlier push of the same
        // content) is fine by the driver contract: no need to ask storage first.
        await storage.commit(id, upload.state, digest);
        const committed = registryDrafts.blobCommitted({ repository, digest, size: upload.state.size, mounted: false }, actor);
        if (!(await metadata.linkBlob(repository, digest, upload.state.size, this.deps.events.writer([committed]), { reservation }))) throw collecting(digest);
      } catch (err) {
        await metadata.releaseReservation(reservation).catch(() => undefined);
        throw err;
      }
    }, async () => {
      // Refused: the bytes go, so nothing half-written remains.
      await this.#discard(upload);
      lease.gone();
    });
    await metadata.deleteUpload(id);
    lease.gone();
    return { size: upload.state.size };
  }

  /** The `beforeBlobCommit` context, or undefined when no plugin tapped the gate. */
  #gateContext(repository: string, digest: Digest, size: number, from: string | undefined, actor: ActorInfo | undefined): BlobCommitContext | undefined {
    const hooks = this.deps.hooks;
    if (!hooks?.registry.beforeBlobCommit.isUsed()) return undefined;
    const principal = actor?.principal ?? KERNEL_PRINCIPAL;
    const request = actor?.request ?? { requestId: `upload-${randomUUID()}`, ip: '127.0.0.1', method: 'PUT', path: `/v2/${repository}/blobs/uploads/`, userAgent: 'wharf-kernel' };
    return { repository, digest, size, kind: from === undefined ? 'upload' : 'mount', from, principal, request };
  }

  /**
   * Runs the gate, then `commit`. When the gate refuses, `refused` cleans up; whenever the
   * commit does not complete, `blobCommitFailed` lets the gates release what they reserved.
   */
  async #gated(gate: BlobCommitContext | undefined, commit: () => Promise<void>, refused?: () => Promise<void>): Promise<void> {
    if (!gate) return commit();
    const hooks = this.deps.hooks as KernelHooks;
    try {
      try {
        await hooks.registry.beforeBlobCommit.promise(gate);
      } catch (err) {
        await refused?.();
        throw err;
      }
      await commit();
    } catch (err) {
      await hooks.registry.blobCommitFailed.promise(gate, err).catch((failure: unknown) => {
        this.deps.logger.warn({ err: failure, repository: gate.repository, digest: gate.digest }, 'blobCommitFailed tap failed');
      });
      throw err;
    }
  }

  /**
   * The storage lost the upload's data (an outside cleanup, a lost disk): the upload is gone
   * for good, so its record goes too and the client hears `BLOB_UPLOAD_UNKNOWN`. Other errors
   * pass through.
   */
  async #lostData(upload: UploadRecord, err: unknown, lease: { gone(): void }): Promise<never> {
    if (!(err instanceof UploadNotFoundError)) throw err;
    this.deps.logger.warn({ uploadId: upload.id, repository: upload.repository }, 'upload data missing from storage: upload forgotten');
    this.#hashes.forget(upload.id);
    await this.deps.metadata.deleteUpload(upload.id);
    lease.gone();
    throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'the upload data is gone from storage', { detail: { uuid: upload.id } });
  }

  /** Cancels an upload (DELETE). */
  async cancel(repository: string, id: string): Promise<void> {
    const upload = await this.get(repository, id);
    await this.#discard(upload);
  }

  /** Cross-repository mount: links a blob of `from` into `repository` if `from` has it. */
  async mount(repository: string, from: string, digest: Digest, actor?: ActorInfo): Promise<{ size: number } | undefined> {
    const blob = await this.deps.metadata.getLinkedBlob(from, digest);
    if (!blob || !(await this.deps.storage.stat(digest))) return undefined;
    const gate = this.#gateContext(repository, digest, blob.size, from, actor);
    try {
      await this.#gated(gate, async () => {
        const mounted = registryDrafts.blobCommitted({ repository, digest, size: blob.size, mounted: true }, actor);
        // A blob garbage collection has claimed is not mountable: the client uploads it instead.
        if (!(await this.deps.metadata.linkBlob(repository, digest, blob.size, this.deps.events.writer([mounted]), { mount: true }))) throw NOT_MOUNTED;
      });
    } catch (err) {
      // Thrown inside the gated commit so that the gates release what they reserved.
      if (err === NOT_MOUNTED) return undefined;
      throw err;
    }
    return blob;
  }

  /** Reserves `digest` for a commit, waiting (bounded) while a collection finishes deleting it. */
  async #reserve(digest: Digest, size: number, uploadId: string): Promise<string> {
    const deadline = Date.now() + RESERVE_WAIT_MS;
    for (;;) {
      const reservation = await this.deps.metadata.reserveBlob(digest, size, RESERVATION_MS, uploadId);
      if (reservation !== 'deleting') return reservation.holder;
      if (Date.now() > deadline) throw collecting(digest);
      await sleep(RESERVE_POLL_MS);
    }
  }

  async #appendLocked(upload: UploadRecord, body: Readable, chunk: ChunkInfo): Promise<UploadRecord> {
    const offset = upload.state.size;
    if (chunk.range) {
      if (chunk.range.start !== offset || chunk.range.end < chunk.range.start) {
        body.resume();
        throw new RegistryError('RANGE_INVALID', 'chunk does not start where the upload ends', {
          headers: uploadHeaders(upload),
          detail: { uploaded: offset, start: chunk.range.start },
        });
      }
      const rangeLength = chunk.range.end - chunk.range.start + 1;
      if (chunk.length !== undefined && chunk.length !== rangeLength) {
        body.resume();
        throw new RegistryError('SIZE_INVALID', 'Content-Length does not match Content-Range', { headers: uploadHeaders(upload) });
      }
    }
    const expected = chunk.range ? chunk.range.end - chunk.range.start + 1 : chunk.length;
    const hash = this.#hashes.continueAt(upload.id, offset);
    const metered = new MeteredStream(hash, expected);
    const data = pipeline(body, metered, () => undefined);
    const state = await this.deps.storage.append(upload.id, upload.state, data);
    if (expected !== undefined && metered.bytes !== expected) {
      // The bytes already written past the recorded size are discarded by the next append.
      throw new RegistryError('SIZE_INVALID', 'body is shorter than announced', { headers: uploadHeaders(upload) });
    }
    if (state.size !== offset + metered.bytes) {
      throw new Error(`storage reported ${state.size} bytes after appending ${metered.bytes} at ${offset}`);
    }
    if (!(await this.deps.metadata.updateUpload(upload.id, offset, state))) {
      throw new RegistryError('BLOB_UPLOAD_INVALID', 'upload was changed concurrently', { status: 409 });
    }
    if (hash) this.#hashes.save(upload.id, hash, state.size);
    return { ...upload, state, updatedAt: new Date() };
  }

  async #digestOf(upload: UploadRecord, expected: Digest): Promise<string> {
    const parsed = parseDigest(expected);
    const algorithm = parsed.ok ? parsed.algorithm : 'sha256';
    if (algorithm === 'sha256') {
      const cached = this.#hashes.digestIfComplete(upload.id, upload.state.size);
      if (cached) return cached;
    }
    // Bytes arrived through another process (or before a restart): hash them from storage.
    return digestStream(await this.deps.storage.readUpload(upload.id, upload.state), algorithm);
  }

  async #discard(upload: UploadRecord): Promise<void> {
    this.#hashes.forget(upload.id);
    // Data already gone is as good as aborted.
    await this.deps.storage.abort(upload.id, upload.state).catch((err: unknown) => {
      if (!(err instanceof UploadNotFoundError)) throw err;
    });
    await this.deps.metadata.deleteUpload(upload.id);
  }

  /**
   * Runs `fn` holding the upload's write lease, renewing it while `fn` runs (long uploads).
   * `fn` calls `lease.gone()` once it deleted the upload: there is no lease left to release.
   */
  async #withLease<T>(id: string, fn: (lease: { gone(): void }) => Promise<T>): Promise<T> {
    const { metadata, leaseMs } = this.deps;
    const holder = randomUUID();
    const deadline = Date.now() + leaseMs + 1000;
    // A lease left by a crashed writer expires after leaseMs; wait for it rather than fail.
    while (!(await metadata.acquireUploadLease(id, holder, leaseMs))) {
      if (!(await metadata.getUpload(id))) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { detail: { uuid: id } });
      if (Date.now() > deadline) throw new RegistryError('BLOB_UPLOAD_INVALID', 'upload is being written by another request', { status: 409 });
      await sleep(200);
    }
    const renew = setInterval(() => {
      metadata.acquireUploadLease(id, holder, leaseMs).catch((err: unknown) => this.deps.logger.warn({ err, uploadId: id }, 'upload lease renewal failed'));
    }, Math.max(1000, Math.floor(leaseMs / 3)));
    let deleted = false;
    try {
      return await fn({ gone: () => void (deleted = true) });
    } finally {
      clearInterval(renew);
      if (!deleted) await metadata.releaseUploadLease(id, holder).catch(() => undefined);
    }
  }
}

/** Who commits when the caller does not say (kernel-internal writes). */
const KERNEL_PRINCIPAL = Object.freeze({ subject: 'system', kind: 'system' as const, provider: 'kernel', admin: true, groups: Object.freeze([]) as readonly string[] });

function tooManyUploads(what: string, limit: number): RegistryError {
  return new RegistryError('TOOMANYREQUESTS', `too many open uploads: ${what}; finish or cancel some first`, {
    status: 429,
    headers: { 'Retry-After': '60' },
    detail: { limit },
  });
}

/** Headers every upload response carries: where to continue, and what the registry has. */
export function uploadHeaders(upload: UploadRecord): Record<string, string> {
  const size = upload.state.size;
  return {
    Location: `/v2/${upload.repository}/blobs/uploads/${upload.id}`,
    'Docker-Upload-UUID': upload.id,
    Range: `0-${size > 0 ? size - 1 : 0}`,
  };
}
