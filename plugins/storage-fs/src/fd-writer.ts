import { Writable } from 'node:stream';
import { syncData, writeAllAt } from './fs-io.js';

/** Bytes an upload may buffer while a write is in flight; the body waits (backpressure) past it. */
const COALESCE_BYTES = 1024 * 1024;

/** Options of {@link FdWriter}. */
export interface FdWriterOptions {
  /**
   * Start flushing (`fdatasync`, in the background) each time this many bytes were written since
   * the last flush began; `undefined` never flushes. See {@link FdWriter.flush}.
   */
  readonly flushEvery?: number | undefined;
}

/**
 * Writes a stream into an open file from `position` on. While one write is in flight, the chunks
 * that arrive (64 KiB each from a socket) queue up to 1 MiB and go out together in the next
 * `writev`: one thread-pool trip per megabyte instead of one per socket read.
 *
 * With `flushEvery`, the disk works while the body still arrives: a large append would otherwise
 * write everything to the page cache first and then wait for the disk in one final flush.
 *
 * The descriptor stays the caller's: wait for {@link FdWriter.settled} before closing it, also
 * after an error, so no write or flush of ours still runs when the number is reused.
 */
export class FdWriter extends Writable {
  /** The file offset after the last byte written. */
  position: number;
  readonly #fd: number;
  readonly #flushEvery: number | undefined;
  #inFlight: Promise<unknown> = Promise.resolve();
  #flushing: Promise<void> | undefined;
  #flushError: unknown;
  #unflushed = 0;

  constructor(fd: number, position: number, options: FdWriterOptions = {}) {
    super({ highWaterMark: COALESCE_BYTES });
    this.#fd = fd;
    this.position = position;
    this.#flushEvery = options.flushEvery;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#writeAll([chunk], callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.#writeAll(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  /**
   * Waits for the background flushes, then flushes what is left: once it resolves, every byte
   * written is durable. Rejects if any flush failed (the bytes may not be on disk).
   */
  async flush(): Promise<void> {
    await this.#flushing;
    if (this.#flushError !== undefined) throw this.#flushError;
    await syncData(this.#fd);
  }

  /** Resolves once no write or flush of ours is running on the descriptor (never rejects). */
  async settled(): Promise<void> {
    await this.#inFlight.catch(() => undefined);
    await this.#flushing;
  }

  #writeAll(chunks: Buffer[], callback: (error?: Error | null) => void): void {
    const write = writeAllAt(this.#fd, chunks, this.position);
    this.#inFlight = write;
    write.then(
      (written) => {
        this.position += written;
        this.#unflushed += written;
        this.#maybeFlush();
        callback();
      },
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
    );
  }

  #maybeFlush(): void {
    if (this.#flushEvery === undefined || this.#flushing || this.#unflushed < this.#flushEvery) return;
    this.#unflushed = 0;
    this.#flushing = syncData(this.#fd).then(
      () => {
        this.#flushing = undefined;
      },
      (err: unknown) => {
        this.#flushing = undefined;
        this.#flushError ??= err;
      },
    );
  }
}
