import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  BlobNotFoundError,
  UploadNotFoundError,
  type BlobStat,
  type ByteRange,
  type CommittedBlob,
  type Digest,
  type Logger,
  type StorageDriver,
  type UploadState,
} from '@wharf/sdk';
import { Bucket } from './bucket.js';
import { createS3Client, type S3ConnectionOptions } from './client.js';
import { DEFAULT_PART_SIZE, MAX_PART_SIZE, MIN_PART_SIZE } from './config.js';
import { checkBucket } from './health-check.js';
import { S3Layout, normalizePrefix, type Claim } from './layout.js';
import { PartWriter, type PartWriterContext } from './part-writer.js';
import { readMarker, writeMarker, type UploadMarker } from './upload-marker.js';
import { emptyState, isBareState, parseState, type PendingPiece, type S3UploadState } from './upload-state.js';

/** Options of {@link S3StorageDriver}: the plugin's config, with defaults for what is left out. */
export interface S3StorageDriverOptions extends S3ConnectionOptions {
  bucket: string;
  prefix?: string | undefined;
  serverSideEncryption?: 'AES256' | 'aws:kms' | 'aws:kms:dsse' | undefined;
  kmsKeyId?: string | undefined;
  storageClass?: string | undefined;
  /** Bytes per multipart part (default 8 MiB; S3 allows 5 MiB to 5 GiB). */
  partSize?: number | undefined;
  /** Parts of one upload in flight at once (default 2). */
  partConcurrency?: number | undefined;
  redirect?: { enabled?: boolean | undefined; publicEndpoint?: string | undefined } | undefined;
  /** How long the health check may take before it fails (default 20 s). */
  healthCheckTimeoutMs?: number | undefined;
  logger?: Pick<Logger, 'info' | 'warn'> | undefined;
}

/** Digests whose claims `delete` lists at the same time. */
const DELETE_LOOKUPS = 16;

/**
 * Blobs and uploads in an S3 bucket (AWS or S3-compatible). See docs/architecture/11-s3-storage.md
 * for the layout and why a commit writes one empty object and never copies bytes.
 *
 * Nothing is kept in memory between calls: the kernel's {@link S3UploadState} plus the bucket
 * are the whole state, so any process can continue any upload. Appends stream into multipart
 * parts with at most `(1 + partConcurrency)` parts in memory.
 */
export class S3StorageDriver implements StorageDriver {
  readonly name = 's3';
  /** The SDK client every request goes through (exposed for instrumentation, e.g. counting calls). */
  readonly client: S3Client;
  readonly layout: S3Layout;
  readonly #bucket: Bucket;
  readonly #partSize: number;
  readonly #concurrency: number;
  readonly #redirect: boolean;
  readonly #healthTimeoutMs: number;
  readonly #logger: Pick<Logger, 'info' | 'warn'> | undefined;
  #probed = false;
  #abortUnsupportedLogged = false;

  constructor(options: S3StorageDriverOptions) {
    this.#partSize = options.partSize ?? DEFAULT_PART_SIZE;
    if (!Number.isSafeInteger(this.#partSize) || this.#partSize < MIN_PART_SIZE || this.#partSize > MAX_PART_SIZE) {
      throw new RangeError(`s3 storage: partSize must be between ${MIN_PART_SIZE} and ${MAX_PART_SIZE} bytes, got ${String(options.partSize)}`);
    }
    this.#concurrency = Math.max(1, options.partConcurrency ?? 2);
    this.#redirect = options.redirect?.enabled === true;
    this.#healthTimeoutMs = options.healthCheckTimeoutMs ?? 20_000;
    this.#logger = options.logger;
    this.client = createS3Client(options);
    const publicEndpoint = options.redirect?.publicEndpoint;
    const presignClient = publicEndpoint ? createS3Client(options, { endpoint: publicEndpoint }) : this.client;
    this.layout = new S3Layout(normalizePrefix(options.prefix));
    this.#bucket = new Bucket(this.client, presignClient, {
      bucket: options.bucket,
      endpointLabel: options.endpoint ?? `AWS S3${options.region ? ` (${options.region})` : ''}`,
      serverSideEncryption: options.serverSideEncryption,
      kmsKeyId: options.kmsKeyId,
      storageClass: options.storageClass,
    });
  }

  async healthCheck(): Promise<void> {
    // The first check also writes, reads and deletes a probe; later ones (readiness) only list.
    await checkBucket(this.#bucket, this.layout, { probe: !this.#probed, timeoutMs: this.#healthTimeoutMs });
    this.#probed = true;
  }

  async stat(digest: Digest): Promise<BlobStat | undefined> {
    const [claim] = await this.#claims(digest);
    return claim ? { size: claim.size } : undefined;
  }

  async read(digest: Digest, range?: ByteRange): Promise<Readable> {
    if (range) checkRange(range);
    for (const claim of await this.#claims(digest)) {
      const stream = await this.#bucket.getStream(this.layout.dataKey(claim.uploadId), range);
      // No data behind the claim: a delete is half done. Another claim may still hold the bytes.
      if (stream) return stream;
    }
    throw new BlobNotFoundError(digest);
  }

  async redirectUrl(digest: Digest, options: { method: 'GET' | 'HEAD'; expiresInSeconds: number }): Promise<string | undefined> {
    if (!this.#redirect) return undefined;
    const [claim] = await this.#claims(digest);
    if (!claim) return undefined;
    return this.#bucket.presign(this.layout.dataKey(claim.uploadId), options.method, options.expiresInSeconds);
  }

  /**
   * Finds the claims of every digest, then deletes their data objects and then the claims, with
   * DeleteObjects batches of up to 1,000 keys. Data first: an interrupted delete leaves a claim
   * without data (read reports the blob missing, a second delete finishes the job), never bytes
   * that nothing refers to.
   */
  async delete(digests: readonly Digest[]): Promise<void> {
    for (const digest of digests) this.layout.claimsPrefix(digest);
    const unique = [...new Set(digests)];
    const claims: Claim[] = [];
    for (let i = 0; i < unique.length; i += DELETE_LOOKUPS) {
      const found = await Promise.all(unique.slice(i, i + DELETE_LOOKUPS).map((digest) => this.#claims(digest)));
      for (const list of found) claims.push(...list);
    }
    await this.#bucket.deleteKeys(claims.map((claim) => this.layout.dataKey(claim.uploadId)));
    await this.#bucket.deleteKeys(claims.map((claim) => claim.key));
  }

  /**
   * Deletes blobs by the uploads the kernel recorded as committed (ADR 0037): their claim keys
   * and data keys follow from digest, size and upload id, so no listing is needed. Data first,
   * then claims, as in `delete`. An upload that was discarded as a duplicate left neither key;
   * deleting an absent key is not an error. Its data key can hold nothing else: upload ids are
   * never reused and the upload's content is this digest's.
   */
  async deleteCommitted(blobs: readonly CommittedBlob[]): Promise<void> {
    const data: string[] = [];
    const claims: string[] = [];
    for (const blob of blobs) {
      for (const upload of new Set(blob.uploads)) {
        claims.push(this.layout.claimKey(blob.digest, blob.size, upload));
        data.push(this.layout.dataKey(upload));
      }
    }
    await this.#bucket.deleteKeys(data);
    await this.#bucket.deleteKeys(claims);
  }

  async *list(): AsyncIterable<BlobStat & { digest: Digest }> {
    // Keys come in order, so the claims of one digest are next to each other.
    let last: string | undefined;
    for await (const object of this.#bucket.list(this.layout.blobsPrefix)) {
      const claim = this.layout.parseClaim(object.key);
      if (!claim || claim.digest === last) continue;
      last = claim.digest;
      yield { digest: claim.digest, size: claim.size };
    }
  }

  async createUpload(id: string): Promise<UploadState> {
    await writeMarker(this.#bucket, this.layout, id, {});
    return emptyState(this.#partSize);
  }

  async append(id: string, state: UploadState, data: Readable): Promise<UploadState> {
    const marker = await this.#requireMarker(id);
    let current = parseState(state);
    if (await this.#isSealed(id, current, marker.value)) current = reopened(current);
    const writer = new PartWriter(this.#writerContext(id, marker), current);
    try {
      for await (const chunk of data) await writer.write(toBuffer(chunk));
      return await writer.finish();
    } catch (err) {
      await writer.settle();
      throw err;
    }
  }

  async uploadSize(id: string, state: UploadState): Promise<number> {
    await this.#requireMarker(id);
    // Only bytes a recorded state lists are part of the upload, and every one of them is stored:
    // an append is acknowledged after its last request succeeded.
    return parseState(state).size;
  }

  async readUpload(id: string, state: UploadState): Promise<Readable> {
    const marker = await this.#requireMarker(id);
    const current = parseState(state);
    if (current.size === 0) return Readable.from([], { objectMode: false });
    if (current.multipart === undefined) return this.#streamPieces(id, current.pending);
    // Parts cannot be read before their upload completes: complete it ("seal") and read that.
    if (!(await this.#isSealed(id, current, marker.value))) {
      await this.#updateMarker(id, marker, { sealed: { multipart: current.multipart, size: current.size } });
      await this.#complete(id, current, marker);
    }
    return this.#streamPieces(id, [{ name: 'data', start: 0, size: current.size }]);
  }

  async commit(id: string, state: UploadState, digest: Digest): Promise<void> {
    const marker = await this.#requireMarker(id);
    const current = parseState(state);
    const existing = await this.#claims(digest);
    if (existing.some((claim) => claim.uploadId === id)) {
      // This upload was committed before (a retry after a crash): only the scratch objects remain.
      await this.#abortMultiparts(id, marker.value, current.multipart);
      await this.#dropScratch(id);
      return;
    }
    if (existing.length > 0 && (await this.#anyData(existing))) {
      // The same content is stored already (pushed earlier or concurrently): keep it, drop ours.
      await this.#discard(id, current, marker);
      return;
    }
    await this.#updateMarker(id, marker, { committing: digest });
    const completed = await this.#materialize(id, current, marker);
    // The commit itself: one empty object. Two concurrent commits of one digest both succeed
    // and leave two claims, each with its own identical bytes; delete removes them all.
    await this.#bucket.put(this.layout.claimKey(digest, current.size, id), Buffer.alloc(0), 'meta');
    await this.#abortMultiparts(id, marker.value, completed);
    await this.#dropScratch(id);
  }

  async abort(id: string, state: UploadState): Promise<void> {
    const marker = await readMarker(this.#bucket, this.layout, id);
    if (!marker) {
      // Unknown, aborted or committed: the data object is not ours to delete any more.
      await this.#dropScratch(id);
      return;
    }
    if (marker.committing) {
      const claims = await this.#claims(marker.committing);
      if (claims.some((claim) => claim.uploadId === id)) {
        // Committed, but the process died before cleaning up: the data object is a blob now.
        const completed = isBareState(state) ? undefined : parseState(state).multipart;
        await this.#abortMultiparts(id, marker, completed);
        await this.#dropScratch(id);
        return;
      }
    }
    await this.#discard(id, isBareState(state) ? undefined : parseState(state), { value: marker });
  }

  /** Closes the client's connections. */
  close(): void {
    this.client.destroy();
  }

  async #claims(digest: Digest): Promise<Claim[]> {
    const claims: Claim[] = [];
    for await (const object of this.#bucket.list(this.layout.claimsPrefix(digest))) {
      const claim = this.layout.parseClaim(object.key);
      if (claim) claims.push(claim);
    }
    return claims;
  }

  /** True when some claim still has its data (a half-finished delete leaves claims without). */
  async #anyData(claims: readonly Claim[]): Promise<boolean> {
    for (const claim of claims) if ((await this.#bucket.size(this.layout.dataKey(claim.uploadId))) !== undefined) return true;
    return false;
  }

  async #requireMarker(id: string): Promise<MarkerRef> {
    const marker = await readMarker(this.#bucket, this.layout, id);
    if (!marker) throw new UploadNotFoundError(id);
    return { value: marker };
  }

  async #updateMarker(id: string, marker: MarkerRef, change: Partial<UploadMarker>): Promise<void> {
    const next = { ...marker.value, ...change };
    await writeMarker(this.#bucket, this.layout, id, next);
    marker.value = next;
  }

  /**
   * True when `readUpload` completed the state's multipart upload. The marker records the intent
   * before the completion, so the data object's size confirms it happened: before completion
   * the data object is at most the first segment, smaller than the state's first part.
   */
  async #isSealed(id: string, state: S3UploadState, marker: UploadMarker): Promise<boolean> {
    const seal = marker.sealed;
    if (state.multipart === undefined || seal?.multipart !== state.multipart || seal.size !== state.size) return false;
    return (await this.#bucket.size(this.layout.dataKey(id))) === state.size;
  }

  /**
   * Makes the data object hold exactly the upload's bytes, writing as little as possible.
   * Resolves with the multipart upload it completed (or found completed), if any.
   */
  async #materialize(id: string, state: S3UploadState, marker: MarkerRef): Promise<string | undefined> {
    const dataKey = this.layout.dataKey(id);
    if (state.multipart !== undefined) {
      if (await this.#isSealed(id, state, marker.value)) return state.multipart;
      return this.#complete(id, state, marker);
    }
    const [first] = state.pending;
    if (state.pending.length === 0) {
      await this.#bucket.put(dataKey, Buffer.alloc(0), 'data');
    } else if (state.pending.length === 1 && first?.name === 'data' && first.start === 0) {
      // The whole upload is its first segment, already at the data key.
    } else if (state.size <= this.#partSize) {
      // Several small appends: join them (less than a part, so in memory) into one object.
      const chunks: Buffer[] = [];
      for await (const chunk of await this.#streamPieces(id, state.pending)) chunks.push(chunk as Buffer);
      await this.#bucket.put(dataKey, Buffer.concat(chunks), 'data');
    } else {
      return this.#complete(id, state, marker);
    }
    return undefined;
  }

  /** Sends the pending pieces as the last parts and completes the multipart upload into the data key. */
  async #complete(id: string, state: S3UploadState, marker: MarkerRef): Promise<string> {
    const writer = new PartWriter(this.#writerContext(id, marker), state);
    try {
      const etags = await writer.flushAll();
      const multipart = writer.multipart as string;
      await this.#bucket.completeMultipart(this.layout.dataKey(id), multipart, etags);
      return multipart;
    } catch (err) {
      await writer.settle();
      throw err;
    }
  }

  /** Deletes everything of an upload that is not a blob: multipart uploads, data, segments, then the marker. */
  async #discard(id: string, state: S3UploadState | undefined, marker: MarkerRef): Promise<void> {
    // A sealed (completed) one among them just answers NoSuchUpload.
    const multiparts = [...(marker.value.multiparts ?? []), ...(state?.multipart ? [state.multipart] : [])];
    await this.#abortMultiparts(id, { multiparts }, undefined);
    await this.#bucket.deleteKeys([this.layout.dataKey(id)]);
    await this.#dropScratch(id);
  }

  /** Aborts the upload's multipart uploads but `completed` (which no longer exists as one). */
  async #abortMultiparts(id: string, marker: UploadMarker, completed: string | undefined): Promise<void> {
    const dataKey = this.layout.dataKey(id);
    for (const multipart of new Set(marker.multiparts ?? [])) {
      if (multipart === completed) continue;
      const result = await this.#bucket.abortMultipart(dataKey, multipart);
      if (result === 'unsupported' && !this.#abortUnsupportedLogged) {
        this.#abortUnsupportedLogged = true;
        this.#logger?.warn(
          { uploadId: id },
          'the object store has no AbortMultipartUpload: parts of discarded uploads stay until its own cleanup (e.g. a lifecycle rule)',
        );
      }
    }
  }

  /** Deletes the upload's scratch objects, the marker last (it says the upload still exists). */
  async #dropScratch(id: string): Promise<void> {
    const marker = this.layout.markerKey(id);
    const keys: string[] = [];
    for await (const object of this.#bucket.list(this.layout.scratchPrefix(id))) keys.push(object.key);
    await this.#bucket.deleteKeys(keys.filter((key) => key !== marker));
    if (keys.includes(marker)) await this.#bucket.deleteKeys([marker]);
  }

  /** The bytes of pending pieces, in order, opening each object only when the previous one is done. */
  #streamPieces(id: string, pieces: readonly PendingPiece[]): Readable {
    const bucket = this.#bucket;
    const layout = this.layout;
    async function* bytes(): AsyncGenerator<Buffer> {
      for (const piece of pieces) {
        const key = piece.name === 'data' ? layout.dataKey(id) : layout.segmentKey(id, piece.name);
        const stream = await bucket.getStream(key, { start: piece.start, end: piece.start + piece.size - 1 });
        if (!stream) throw new UploadNotFoundError(id);
        for await (const chunk of stream) yield chunk as Buffer;
      }
    }
    return Readable.from(bytes(), { objectMode: false });
  }

  #writerContext(id: string, marker: MarkerRef): PartWriterContext {
    return {
      bucket: this.#bucket,
      layout: this.layout,
      uploadId: id,
      concurrency: this.#concurrency,
      onMultipart: (multipart) => this.#updateMarker(id, marker, { multiparts: [...(marker.value.multiparts ?? []), multipart] }),
    };
  }
}

/** The marker as last read or written by this call. */
interface MarkerRef {
  value: UploadMarker;
}

/** The state of a sealed upload, continued: its bytes are one object, to be re-sent as new parts. */
function reopened(state: S3UploadState): S3UploadState {
  return { size: state.size, partSize: state.partSize, etags: [], pending: [{ name: 'data', start: 0, size: state.size }] };
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw new TypeError(`s3 storage: append data must be bytes, got ${typeof chunk}`);
}

function checkRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`s3 storage: invalid byte range ${String(start)}-${String(end)}`);
  }
}
