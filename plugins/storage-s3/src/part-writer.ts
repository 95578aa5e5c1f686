import type { Bucket } from './bucket.js';
import { S3Layout } from './layout.js';
import { MAX_PARTS, pendingBytes, type PendingPiece, type S3UploadState } from './upload-state.js';

/** What a {@link PartWriter} works on. */
export interface PartWriterContext {
  readonly bucket: Bucket;
  readonly layout: S3Layout;
  readonly uploadId: string;
  /** Parts sent at the same time. */
  readonly concurrency: number;
  /** Called with a new multipart upload's id before its first part is sent (to record it). */
  readonly onMultipart: (multipart: string) => Promise<void>;
}

/**
 * Turns appended bytes into multipart parts of exactly `partSize` bytes, in bounded memory.
 *
 * Bytes arrive after the upload's parts and pending pieces. As soon as the pending pieces and
 * the buffered bytes reach a part, the part is assembled (pending pieces are read back from S3
 * only then) and sent while more bytes arrive, with at most `concurrency` parts in flight. What
 * is left at the end, less than a part, becomes one new segment object: S3 only takes parts of at
 * least 5 MiB (but the last), and parts cannot be read back before the upload completes, so
 * those bytes must be somewhere readable and continuable by another process.
 *
 * Nothing a recorded state refers to is ever overwritten or deleted here: if the append fails
 * (or its result is never recorded by the kernel), the previous state stays valid. Parts sent
 * under numbers the recorded state does not list are simply replaced or left out at completion.
 */
export class PartWriter {
  readonly #ctx: PartWriterContext;
  readonly #partSize: number;
  #size: number;
  #multipart: string | undefined;
  readonly #etags: string[];
  readonly #pending: PendingPiece[];
  /** Bytes that follow pending pieces, until those are read into a part. */
  #buffer: Buffer[] = [];
  #buffered = 0;
  /** The part being filled when no pending piece precedes the new bytes. */
  #fill: Buffer | undefined;
  #filled = 0;
  #sentParts = 0;
  readonly #spare: Buffer[] = [];
  readonly #inflight = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;
  /** A multipart upload this writer created, which no recorded state knows yet. */
  #created: string | undefined;

  constructor(ctx: PartWriterContext, state: S3UploadState) {
    this.#ctx = ctx;
    this.#partSize = state.partSize;
    this.#size = state.size;
    this.#multipart = state.multipart;
    this.#etags = [...state.etags];
    this.#pending = [...state.pending];
  }

  /** Takes a chunk; resolves once it may take the next one (back-pressure while parts upload). */
  async write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    this.#size += chunk.length;
    if (this.#pending.length > 0) {
      // Pending pieces come first in the next part; they are read back only once it is full.
      this.#buffer.push(chunk);
      this.#buffered += chunk.length;
      while (pendingBytes({ pending: this.#pending }) + this.#buffered >= this.#partSize) await this.#sendPart(this.#partSize);
      if (this.#pending.length > 0 || this.#buffered === 0) return;
      chunk = this.#take(this.#buffered);
    }
    // No pending piece: copy bytes straight into the part being filled, so a chunk is garbage
    // as soon as it is copied and memory stays at the part buffers.
    for (let at = 0; at < chunk.length; ) {
      this.#growFill(chunk.length - at);
      const fill = this.#fill as Buffer;
      const copied = chunk.copy(fill, this.#filled, at, Math.min(chunk.length, at + fill.length - this.#filled));
      this.#filled += copied;
      at += copied;
      if (this.#filled === this.#partSize) {
        this.#fill = undefined;
        this.#filled = 0;
        await this.#send(fill);
      }
    }
  }

  /**
   * Makes room in the part being filled for up to `wanted` more bytes. It starts small and
   * doubles up to a part, so an append of a few bytes never allocates a whole part.
   */
  #growFill(wanted: number): void {
    const capacity = this.#fill?.length ?? 0;
    if (capacity - this.#filled > 0 && capacity - this.#filled >= Math.min(wanted, this.#partSize - this.#filled)) return;
    // Once this append filled a part, more are likely: whole parts from then on.
    const size = this.#sentParts > 0 ? this.#partSize : Math.min(this.#partSize, Math.max(64 * 1024, capacity * 2, this.#filled + wanted));
    const grown = size === this.#partSize ? this.#partBuffer() : Buffer.allocUnsafe(size);
    this.#fill?.copy(grown, 0, 0, this.#filled);
    this.#fill = grown;
  }

  /** Waits for the parts in flight and stores the rest as a segment: the new state. */
  async finish(): Promise<S3UploadState> {
    await this.#drain();
    const rest = this.#buffered > 0 ? this.#take(this.#buffered) : this.#fill?.subarray(0, this.#filled);
    if (rest && rest.length > 0) {
      const offset = this.#size - rest.length;
      // The first bytes of an upload go to its data key: a blob smaller than a part is then
      // already where the commit wants it, and is never written twice.
      const name = offset === 0 ? 'data' : S3Layout.newSegmentName(offset);
      const { bucket, layout, uploadId } = this.#ctx;
      const key = name === 'data' ? layout.dataKey(uploadId) : layout.segmentKey(uploadId, name);
      await bucket.put(key, rest, name === 'data' ? 'data' : 'scratch');
      this.#pending.push({ name, start: 0, size: rest.length });
      this.#fill = undefined;
      this.#filled = 0;
    }
    this.#created = undefined;
    return this.state();
  }

  /**
   * Sends every pending byte as parts (the last one may be short) and waits for them: the
   * upload is then ready for CompleteMultipartUpload with {@link etags}.
   */
  async flushAll(): Promise<readonly string[]> {
    if (this.#buffered > 0 || this.#filled > 0) throw new Error('s3 storage: flushAll with unwritten bytes');
    let left = pendingBytes({ pending: this.#pending });
    while (left > 0) {
      const size = Math.min(left, this.#partSize);
      await this.#sendPart(size);
      left -= size;
    }
    await this.#drain();
    this.#created = undefined;
    return this.etags;
  }

  get multipart(): string | undefined {
    return this.#multipart;
  }

  get etags(): readonly string[] {
    return [...this.#etags];
  }

  state(): S3UploadState {
    return {
      size: this.#size,
      partSize: this.#partSize,
      ...(this.#multipart === undefined ? {} : { multipart: this.#multipart }),
      etags: [...this.#etags],
      pending: [...this.#pending],
    };
  }

  /**
   * After a failure: waits for the requests in flight (so none runs on after the caller moved on)
   * and discards a multipart upload this writer started, which nothing else refers to.
   */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#inflight]);
    this.#inflight.clear();
    if (this.#created) {
      const { bucket, layout, uploadId } = this.#ctx;
      await bucket.abortMultipart(layout.dataKey(uploadId), this.#created).catch(() => undefined);
      this.#created = undefined;
    }
  }

  /** Assembles the next part of `size` bytes from the pending pieces, then the buffer, and sends it. */
  async #sendPart(size: number): Promise<void> {
    this.#throwIfFailed();
    const chunks: Buffer[] = [];
    let need = size;
    while (need > 0 && this.#pending.length > 0) {
      const piece = this.#pending[0] as PendingPiece;
      const used = Math.min(piece.size, need);
      chunks.push(await this.#readPiece({ ...piece, size: used }));
      if (used === piece.size) this.#pending.shift();
      else this.#pending[0] = { name: piece.name, start: piece.start + used, size: piece.size - used };
      need -= used;
    }
    if (need > 0) chunks.push(this.#take(need));
    const body = size === this.#partSize ? this.#partBuffer() : Buffer.allocUnsafe(size);
    let at = 0;
    for (const chunk of chunks) at += chunk.copy(body, at);
    await this.#send(body);
  }

  /**
   * A buffer of one part, reused once the part it held was sent: the memory of an append stays
   * at `concurrency + 1` parts instead of waiting for the garbage collector to free each one.
   */
  #partBuffer(): Buffer {
    return this.#spare.pop() ?? Buffer.allocUnsafe(this.#partSize);
  }

  /** Sends `body` as the next part, waiting while `concurrency` parts are in flight. */
  async #send(body: Buffer): Promise<void> {
    this.#throwIfFailed();
    const partNumber = this.#etags.length + 1;
    if (partNumber > MAX_PARTS) {
      throw new RangeError(`s3 storage: upload ${this.#ctx.uploadId} needs more than ${MAX_PARTS} parts of ${this.#partSize} bytes: raise partSize`);
    }
    const multipart = await this.#ensureMultipart();
    this.#sentParts += 1;
    // Reserve the slot now: parts finish in any order, ETags must stay in part order.
    this.#etags.push('');
    const { bucket, layout, uploadId } = this.#ctx;
    const sent = bucket.uploadPart(layout.dataKey(uploadId), multipart, partNumber, body).then(
      (etag) => {
        this.#etags[partNumber - 1] = etag;
        if (body.length === this.#partSize) this.#spare.push(body);
      },
      (error: unknown) => {
        this.#failure ??= { error };
      },
    );
    const tracked = sent.finally(() => this.#inflight.delete(tracked));
    this.#inflight.add(tracked);
    while (this.#inflight.size >= this.#ctx.concurrency) await Promise.race(this.#inflight);
    this.#throwIfFailed();
  }

  async #ensureMultipart(): Promise<string> {
    if (this.#multipart === undefined) {
      const { bucket, layout, uploadId } = this.#ctx;
      const multipart = await bucket.createMultipart(layout.dataKey(uploadId));
      this.#created = multipart;
      await this.#ctx.onMultipart(multipart);
      this.#multipart = multipart;
    }
    return this.#multipart;
  }

  async #readPiece(piece: PendingPiece): Promise<Buffer> {
    const { bucket, layout, uploadId } = this.#ctx;
    const key = piece.name === 'data' ? layout.dataKey(uploadId) : layout.segmentKey(uploadId, piece.name);
    const stream = await bucket.getStream(key, { start: piece.start, end: piece.start + piece.size - 1 });
    if (!stream) throw new Error(`s3 storage: upload ${uploadId}: object ${key} of a recorded state is missing`);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    if (bytes.length !== piece.size) throw new Error(`s3 storage: upload ${uploadId}: object ${key} holds ${bytes.length} bytes where ${piece.size} were recorded`);
    return bytes;
  }

  /** Removes the first `size` buffered bytes, as one Buffer. */
  #take(size: number): Buffer {
    const out: Buffer[] = [];
    let need = size;
    while (need > 0) {
      const chunk = this.#buffer[0] as Buffer;
      if (chunk.length <= need) {
        out.push(chunk);
        this.#buffer.shift();
        need -= chunk.length;
      } else {
        out.push(chunk.subarray(0, need));
        this.#buffer[0] = chunk.subarray(need);
        need = 0;
      }
    }
    this.#buffered -= size;
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out, size);
  }

  async #drain(): Promise<void> {
    await Promise.all([...this.#inflight]);
    this.#throwIfFailed();
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }
}
