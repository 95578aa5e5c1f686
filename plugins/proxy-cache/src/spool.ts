import { EventEmitter, once } from 'node:events';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import type { Digest } from '@wharf/sdk';

/**
 * One blob on its way from an upstream: the bytes go straight into storage (`putBlob`, which
 * hashes them as it writes) and, through `tee`, into a spool file. Every client pulling the
 * blob meanwhile reads the spool file from the start and follows it as it grows, so one
 * upstream download serves them all and memory stays flat (no reader holds more than one read
 * chunk). A reader ends only once storage committed the blob, that is after the kernel checked
 * the digest; a bad or cut blob errors every reader (responses are aborted, the storage upload
 * discarded). The bytes are hashed once, by the kernel.
 */

/** As large as a batch: a reader that fell behind sends what it reads in writes of this size. */
const READ_CHUNK = 1024 * 1024;
const WRITE_BATCH = 1024 * 1024;
/**
 * The newest bytes written are also kept in memory, up to this many: a reader that keeps up
 * with the download takes them from there (the same buffers, no copy, no file read); only one
 * that fell behind reads the file. Bounds memory per download, not per reader.
 */
const RECENT_BYTES = 4 * 1024 * 1024;
/**
 * The recent chunks of all downloads of this process together: past it, a download keeps none
 * and its readers read the file, so a hundred downloads at once do not hold 400 MiB.
 */
const RECENT_BYTES_ALL = 64 * 1024 * 1024;
let recentHeldAll = 0;

export type SpoolState = 'running' | 'verified' | 'failed';

export class SpoolFlight extends EventEmitter {
  written = 0;
  state: SpoolState = 'running';
  error: Error | undefined;
  #readers = 0;
  #finished = false;
  #removed = false;
  /** The newest written chunks, in order, covering [#recentStart, written). */
  #recent: Buffer[] = [];
  #recentStart = 0;
  /** Bytes in #recent (counted in recentHeldAll too). */
  #recentHeld = 0;

  /** The recent bytes all downloads of this process hold now (tests, and the bound above). */
  static get recentBytesHeld(): number {
    return recentHeldAll;
  }

  private constructor(
    readonly digest: Digest,
    readonly size: number,
    readonly path: string,
    private readonly file: FileHandle,
  ) {
    super();
    this.setMaxListeners(0);
  }

  static async create(digest: Digest, size: number, path: string): Promise<SpoolFlight> {
    return new SpoolFlight(digest, size, path, await open(path, 'w'));
  }

  /**
   * A pass-through for the upstream's bytes on their way to storage. Network chunks (16-64 KiB)
   * are gathered into one buffer per WRITE_BATCH bytes (a copy of 1 MiB is cheap), which goes on
   * to storage and, at the same time, into the spool file: every stage after this one (storage's
   * hash and file writes, each reader's socket writes) handles 1 MiB at a time, as a normal pull
   * does, instead of paying its per-chunk cost 16 times over. The transform waits for its spool
   * write before it takes more, so memory stays bounded by the batch and the streams' buffers.
   * Readers do not end here: see `settle`.
   */
  tee(onBytes: (n: number) => void): Transform {
    let batch: Buffer[] = [];
    let batched = 0;
    const flight = this;
    async function spool(buffer: Buffer): Promise<void> {
      const bytes = buffer.length;
      for (let done = 0; done < bytes; ) done += (await flight.file.write(buffer, done, bytes - done, flight.written + done)).bytesWritten;
      flight.written += bytes;
      flight.#remember(buffer);
      onBytes(bytes);
      flight.emit('progress');
    }
    /** Hands the batch to storage (pushed downstream) and to the spool at once. */
    function pass(stream: Transform, done: (err?: Error | null) => void): void {
      if (batched === 0) return done();
      const buffer = batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch, batched);
      batch = [];
      batched = 0;
      stream.push(buffer);
      spool(buffer).then(() => done(), done);
    }
    return new Transform({
      highWaterMark: WRITE_BATCH,
      transform(chunk: Buffer, _encoding, done) {
        if (flight.written + batched + chunk.length > flight.size) return done(new Error(`the upstream sent more than the ${flight.size} bytes it announced`));
        batch.push(chunk);
        batched += chunk.length;
        if (batched < WRITE_BATCH) return done();
        pass(this, done);
      },
      flush(done) {
        pass(this, done);
      },
    });
  }

  /**
   * The end of the download: `undefined` once storage committed the blob (so its digest was
   * checked: readers then end), or why not (readers then fail, their responses are cut).
   */
  async settle(error: unknown): Promise<void> {
    if (error === undefined) this.state = 'verified';
    else {
      this.error = error instanceof Error ? error : new Error(String(error));
      this.state = 'failed';
    }
    await this.file.close().catch(() => undefined);
    this.emit('progress');
  }

  #remember(buffer: Buffer): void {
    if (this.#removed) return;
    if (recentHeldAll + buffer.length > RECENT_BYTES_ALL) {
      // Over the process's budget: keep nothing (the range must stay contiguous); readers use the file.
      this.#forgetRecent();
      this.#recentStart = this.written;
      return;
    }
    this.#recent.push(buffer);
    this.#recentHeld += buffer.length;
    recentHeldAll += buffer.length;
    let kept = this.written - this.#recentStart;
    while (this.#recent.length > 1 && kept - (this.#recent[0] as Buffer).length >= RECENT_BYTES) {
      const dropped = this.#recent.shift() as Buffer;
      this.#recentStart += dropped.length;
      this.#recentHeld -= dropped.length;
      recentHeldAll -= dropped.length;
      kept -= dropped.length;
    }
  }

  #forgetRecent(): void {
    recentHeldAll -= this.#recentHeld;
    this.#recentHeld = 0;
    this.#recent = [];
  }

  /** Bytes from `offset` (before `end`) out of the recent chunks, or `undefined` when they are older. */
  #fromMemory(offset: number, end: number): Buffer | undefined {
    if (offset < this.#recentStart) return undefined;
    let start = this.#recentStart;
    for (const chunk of this.#recent) {
      if (offset < start + chunk.length) return chunk.subarray(offset - start, Math.min(chunk.length, end - start));
      start += chunk.length;
    }
    return undefined;
  }

  /** A reader from byte 0 that follows the file; `undefined` when the spool is already gone. */
  async attach(): Promise<Readable | undefined> {
    if (this.#removed || this.state === 'failed') return undefined;
    let handle: FileHandle;
    try {
      handle = await open(this.path, 'r');
    } catch {
      return undefined;
    }
    this.#readers++;
    const flight = this;
    let offset = 0;
    let busy = false;
    // A read asked while the pump is still winding down must not be lost: it runs again.
    let wanted = false;
    let ended = false;
    const run = (): void => {
      busy = true;
      void pump().finally(() => {
        busy = false;
        if (wanted && !ended && !reader.destroyed) run();
      });
    };
    const reader = new Readable({
      highWaterMark: READ_CHUNK,
      read() {
        wanted = true;
        if (!busy) run();
      },
      destroy(err, callback) {
        handle.close().catch(() => undefined).finally(() => {
          flight.#release();
          callback(err);
        });
      },
    });
    async function pump(): Promise<void> {
      wanted = false;
      try {
        for (;;) {
          if (reader.destroyed) return;
          // The last byte waits for the commit: a client that got every byte would take a
          // corrupt blob as whole, however its connection is cut afterwards.
          const available = flight.state === 'verified' ? flight.written : Math.min(flight.written, flight.size - 1);
          if (offset < available) {
            const recent = flight.#fromMemory(offset, available);
            if (recent) {
              offset += recent.length;
              wanted = false;
              if (!reader.push(recent)) return;
              continue;
            }
            const want = Math.min(READ_CHUNK, available - offset);
            const buffer = Buffer.allocUnsafe(want);
            const { bytesRead } = await handle.read(buffer, 0, want, offset);
            offset += bytesRead;
            wanted = false;
            if (!reader.push(bytesRead === want ? buffer : buffer.subarray(0, bytesRead))) return;
            continue;
          }
          if (flight.state === 'failed') return void reader.destroy(flight.error);
          if (flight.state === 'verified') {
            ended = true;
            return void reader.push(null);
          }
          await once(flight, 'progress');
        }
      } catch (err) {
        reader.destroy(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return reader;
  }

  /** No new reader will come (the flight left the table): remove the file once the last one is done. */
  finish(): void {
    this.#finished = true;
    void this.#maybeRemove();
  }

  #release(): void {
    this.#readers--;
    void this.#maybeRemove();
  }

  async #maybeRemove(): Promise<void> {
    if (!this.#finished || this.#readers > 0 || this.#removed) return;
    this.#removed = true;
    this.#forgetRecent();
    await rm(this.path, { force: true }).catch(() => undefined);
  }
}
