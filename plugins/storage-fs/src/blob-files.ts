import { close, read } from 'node:fs';
import { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { releasesChunksOnCallbackOf } from '@wharf/sdk';
import { openForReading } from './fs-io.js';

/** Read size of blob streams: large reads cut per-chunk overhead on big pulls. */
export const READ_CHUNK = 1024 * 1024;

/**
 * Read buffers lent to HTTP responses (and marked writables) and given back once they are done with them.
 * A fresh 1 MiB buffer costs 256 page faults the first time the kernel writes into it, more
 * than the read itself; a reused one costs none. Bounded: past `MAX_FREE` they go to the GC.
 */
class ReadBufferPool {
  static readonly MAX_FREE = 16;
  readonly #free: Buffer[] = [];

  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(READ_CHUNK);
  }

  give(buffer: Buffer): void {
    if (this.#free.length < ReadBufferPool.MAX_FREE) this.#free.push(buffer);
  }
}

const readBuffers = new ReadBufferPool();

/**
 * True for a writable whose write callback runs only once it holds the chunk no more, so the
 * buffer may be reused from then on: a plain-HTTP server response (its callback runs once the
 * bytes are in the kernel), or a writable marked with the SDK's `releasesChunksOnCallback` (the
 * replication adapter's upload body). A TLS socket, or any other stream (a PassThrough calls
 * back while it still holds the chunk), gets fresh buffers.
 */
function takesBufferBack(dest: NodeJS.WritableStream): boolean {
  if (releasesChunksOnCallbackOf(dest)) return true;
  if (!(dest instanceof ServerResponse)) return false;
  const socket = dest.socket as (ServerResponse['socket'] & { encrypted?: boolean }) | null;
  return socket !== null && socket.encrypted !== true;
}

/** A blob file held open for reading by one or more streams. */
export interface OpenBlob {
  readonly fd: number;
  readonly size: number;
  /** Gives the caller's hold back; the descriptor closes once unused and no longer cached. */
  release(): void;
}

interface Entry {
  readonly fd: number;
  readonly size: number;
  refs: number;
  lastUsed: number;
  cached: boolean;
  closed: boolean;
}

export interface OpenBlobCacheOptions {
  /** Most idle descriptors kept (busy ones are never closed). */
  readonly max: number;
  /** An unused descriptor older than this is closed. */
  readonly idleMs: number;
}

/**
 * Open descriptors of committed blob files, shared by concurrent reads and kept for a few seconds
 * after. A pull then costs one positional read per megabyte instead of open + fstat + read +
 * close. This is safe because a blob file never changes once committed: it is created whole by
 * an atomic rename and only ever deleted. A cached descriptor of a deleted file still reads the
 * same bytes; `evict` (called by the driver's `delete`) and the idle timeout bound how long the
 * kernel keeps such a file's space. Whether a repository may read a blob is decided by the
 * database before storage is asked, so a cached descriptor never grants access.
 */
export class OpenBlobCache {
  readonly #entries = new Map<string, Entry>();
  readonly #opening = new Map<string, { promise: Promise<Entry>; cancelled: boolean }>();
  readonly #options: OpenBlobCacheOptions;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: OpenBlobCacheOptions) {
    this.#options = options;
  }

  /** Number of descriptors held by the cache (for tests). */
  get size(): number {
    return this.#entries.size;
  }

  /** Opens `file` (or reuses its descriptor); rejects like `open(2)` when it is missing. */
  async acquire(file: string): Promise<OpenBlob> {
    const cached = this.#entries.get(file);
    const entry = cached ?? (await this.#open(file));
    // Evicted while opening, and already let go by another reader of the same open: open again.
    if (entry.closed) return this.acquire(file);
    entry.refs++;
    entry.lastUsed = Date.now();
    if (entry.cached) {
      // Most recently used last: trimming closes from the front.
      this.#entries.delete(file);
      this.#entries.set(file, entry);
    }
    let released = false;
    return {
      fd: entry.fd,
      size: entry.size,
      release: () => {
        if (released) return;
        released = true;
        entry.refs--;
        entry.lastUsed = Date.now();
        if (!entry.cached && entry.refs === 0) closeEntry(entry);
      },
    };
  }

  /** Forgets `file` (deleted): its descriptor closes as soon as no stream uses it. */
  evict(file: string): void {
    const opening = this.#opening.get(file);
    if (opening) {
      opening.cancelled = true;
      this.#opening.delete(file);
    }
    const entry = this.#entries.get(file);
    if (entry) this.#drop(file, entry);
  }

  /** Closes every idle descriptor and forgets every file. */
  clear(): void {
    for (const file of [...this.#opening.keys()]) this.evict(file);
    for (const [file, entry] of [...this.#entries]) this.#drop(file, entry);
  }

  #open(file: string): Promise<Entry> {
    const pending = this.#opening.get(file);
    if (pending) return pending.promise;
    const ticket = {
      cancelled: false,
      promise: openForReading(file).then(({ fd, size }) => {
        const entry: Entry = { fd, size, refs: 0, lastUsed: Date.now(), cached: !ticket.cancelled, closed: false };
        if (this.#opening.get(file) === ticket) this.#opening.delete(file);
        if (entry.cached) {
          this.#entries.set(file, entry);
          this.#trim(entry);
          this.#startSweeper();
        }
        return entry;
      }),
    };
    this.#opening.set(file, ticket);
    // A failed open is not cached: the next read tries again.
    ticket.promise.catch(() => {
      if (this.#opening.get(file) === ticket) this.#opening.delete(file);
    });
    return ticket.promise;
  }

  /** Closes the least recently used idle descriptors beyond `max` (never `keep`, just opened). */
  #trim(keep: Entry): void {
    if (this.#entries.size <= this.#options.max) return;
    for (const [file, entry] of this.#entries) {
      if (this.#entries.size <= this.#options.max) break;
      if (entry !== keep && entry.refs === 0) this.#drop(file, entry);
    }
  }

  #drop(file: string, entry: Entry): void {
    this.#entries.delete(file);
    entry.cached = false;
    if (entry.refs === 0) closeEntry(entry);
    if (this.#entries.size === 0) this.#stopSweeper();
  }

  #startSweeper(): void {
    if (this.#sweeper) return;
    const every = Math.max(100, Math.floor(this.#options.idleMs / 2));
    this.#sweeper = setInterval(() => {
      const before = Date.now() - this.#options.idleMs;
      for (const [file, entry] of [...this.#entries]) {
        if (entry.refs === 0 && entry.lastUsed <= before) this.#drop(file, entry);
      }
    }, every);
    // Idle descriptors must not keep a finished process alive.
    this.#sweeper.unref();
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}

function closeEntry(entry: Entry): void {
  if (entry.closed) return;
  entry.closed = true;
  close(entry.fd, () => undefined);
}

/**
 * The inclusive byte range `[start, end]` of an open blob, read with positional reads (so several
 * streams share one descriptor). Releases its hold on the descriptor when it ends or is
 * destroyed, but never while a read of its own is still running.
 *
 * Piped straight into an HTTP response (what the kernel does for `GET /v2/.../blobs/...`) or
 * into a writable marked `releasesChunksOnCallback` (a replication upload), it writes to it
 * itself with pooled buffers, reading the next chunk while the writable drains the last one.
 * Read any other way, it is an ordinary stream of fresh buffers.
 */
export class BlobRangeStream extends Readable {
  readonly #blob: OpenBlob;
  readonly #end: number;
  #position: number;
  #reading = false;
  #released = false;
  /** Set once the stream writes to a response itself; `_read` then stays out of the way. */
  #lending: Lending | undefined;

  constructor(blob: OpenBlob, start: number, end: number) {
    // One chunk of read-ahead: the next read runs while the previous chunk goes to the socket.
    super({ highWaterMark: READ_CHUNK });
    this.#blob = blob;
    this.#position = start;
    this.#end = end;
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    const untouched = this.#lending === undefined && !this.#reading && this.readableFlowing === null && this.readableLength === 0;
    if (!untouched || !takesBufferBack(destination) || this.listenerCount('data') > 0) return super.pipe(destination, options);
    this.#lending = new Lending(destination, options?.end !== false, () => this.destroy());
    this.#pump();
    return destination;
  }

  override _read(): void {
    if (this.#lending) return;
    const length = this.#nextLength();
    if (length <= 0) {
      this.push(null);
      return;
    }
    this.#readChunk(Buffer.allocUnsafeSlow(length), length, (chunk) => {
      this.push(chunk);
      // Said now, so a stream that has everything does not wait for one more _read.
      if (this.#position > this.#end) this.push(null);
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#lending?.stop();
    if (!this.#reading) this.#release();
    callback(error);
  }

  /**
   * Lending mode: writes the chunk that is ready whenever the response takes more, and keeps one
   * read in flight ahead of it. Runs again after each read and each 'drain'.
   */
  #pump(): void {
    const lending = this.#lending;
    if (!lending || lending.finished || this.destroyed) return;
    if (lending.flush()) lending.onDrain(() => this.#pump());
    if (this.#reading || lending.waiting) return;
    const length = this.#nextLength();
    if (length > 0) {
      const buffer = readBuffers.take();
      this.#readChunk(
        buffer,
        length,
        (chunk) => {
          lending.waiting = { chunk, buffer };
          this.#pump();
        },
        () => readBuffers.give(buffer),
      );
      return;
    }
    // Everything is written (the response may still be flushing it): end like any readable,
    // 'end' then 'close', so pipeline() and koa see a normal finish.
    lending.finished = true;
    this.push(null);
    this.resume();
    if (lending.end) lending.destination.end();
  }

  #nextLength(): number {
    return Math.min(READ_CHUNK, this.#end - this.#position + 1);
  }

  /** Reads the next `length` bytes into `buffer`; `onFailure` runs when the chunk is not delivered. */
  #readChunk(buffer: Buffer, length: number, deliver: (chunk: Buffer) => void, onFailure?: () => void): void {
    this.#reading = true;
    read(this.#blob.fd, buffer, 0, length, this.#position, (err, bytesRead) => {
      this.#reading = false;
      if (this.destroyed) {
        onFailure?.();
        this.#release();
        return;
      }
      if (err || bytesRead === 0) {
        onFailure?.();
        this.destroy(err ?? new Error(`fs storage: blob file ended at ${this.#position}, expected ${this.#end + 1} bytes`));
        return;
      }
      this.#position += bytesRead;
      deliver(bytesRead < buffer.length ? buffer.subarray(0, bytesRead) : buffer);
    });
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#blob.release();
  }
}

/** The response (or marked writable) a {@link BlobRangeStream} writes to, and the chunk read for it but not yet written. */
class Lending {
  waiting: { chunk: Buffer; buffer: Buffer } | undefined;
  finished = false;
  #blocked = false;
  #onDrain: (() => void) | undefined;
  readonly #onClose: () => void;

  /** `abandon` runs when the response closes before everything was written (client gone). */
  constructor(
    readonly destination: NodeJS.WritableStream,
    readonly end: boolean,
    abandon: () => void,
  ) {
    this.#onClose = () => {
      if (!this.finished) abandon();
    };
    destination.once('close', this.#onClose);
  }

  /** Writes the waiting chunk unless the response is full; true while it is full (wait for 'drain'). */
  flush(): boolean {
    const waiting = this.waiting;
    if (waiting && !this.#blocked) {
      this.waiting = undefined;
      // The callback runs once the bytes are in the kernel, or the write failed: either way the
      // response holds the buffer no more.
      this.#blocked = !this.destination.write(waiting.chunk, () => readBuffers.give(waiting.buffer));
    }
    return this.#blocked;
  }

  /** Calls `next` once the response drains; one listener at a time. */
  onDrain(next: () => void): void {
    if (this.#onDrain) return;
    this.#onDrain = () => {
      this.#onDrain = undefined;
      this.#blocked = false;
      next();
    };
    this.destination.once('drain', this.#onDrain);
  }

  /** Forgets the response (the stream was destroyed); a chunk read but not written goes back. */
  stop(): void {
    if (this.#onDrain) this.destination.off('drain', this.#onDrain);
    this.destination.off('close', this.#onClose);
    this.#onDrain = undefined;
    this.finished = true;
    if (this.waiting) readBuffers.give(this.waiting.buffer);
    this.waiting = undefined;
  }
}
