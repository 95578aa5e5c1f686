import { createHash } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import type { Digest } from '@wharf/sdk';

/**
 * One blob on its way from an upstream: written to a spool file as it arrives, hashed on the
 * way, and handed to storage through `commit`. Every client pulling the blob meanwhile reads
 * the spool file from the start and follows it as it grows, so one upstream download serves
 * them all and memory stays flat (no client holds more than one read chunk). A reader ends only
 * once the whole blob was checked against its digest; a bad or cut blob errors every reader
 * (their responses are aborted) and is never committed.
 */

const READ_CHUNK = 256 * 1024;

export type SpoolState = 'running' | 'verified' | 'failed';

export class SpoolFlight extends EventEmitter {
  written = 0;
  state: SpoolState = 'running';
  error: Error | undefined;
  #readers = 0;
  #finished = false;
  #removed = false;

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
   * Copies `source` into the spool file and into `sink` (storage), checking size and digest.
   * Resolves once the blob is verified (or rejects with why not); `sink` is ended on success
   * and destroyed with the error otherwise.
   */
  async fill(source: Readable, sink: PassThrough, onBytes: (n: number) => void): Promise<void> {
    const [algorithm, expected] = this.digest.split(':') as [string, string];
    const hash = createHash(algorithm);
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        if (this.written + chunk.length > this.size) throw new Error(`the upstream sent more than the ${this.size} bytes it announced`);
        hash.update(chunk);
        await this.file.write(chunk, 0, chunk.length, this.written);
        this.written += chunk.length;
        onBytes(chunk.length);
        this.emit('progress');
        if (!sink.destroyed && !sink.write(chunk)) await drained(sink);
      }
      if (this.written !== this.size) throw new Error(`the upstream sent ${this.written} of ${this.size} bytes`);
      const actual = hash.digest('hex');
      if (actual !== expected) throw new Error(`the upstream blob does not match its digest (got ${algorithm}:${actual})`);
      this.state = 'verified';
      sink.end();
    } catch (err) {
      source.destroy();
      this.error = err instanceof Error ? err : new Error(String(err));
      this.state = 'failed';
      sink.destroy(this.error);
      throw this.error;
    } finally {
      await this.file.close().catch(() => undefined);
      this.emit('progress');
    }
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
    const reader = new Readable({
      highWaterMark: READ_CHUNK,
      read() {
        if (busy) return;
        busy = true;
        void pump().finally(() => (busy = false));
      },
      destroy(err, callback) {
        handle.close().catch(() => undefined).finally(() => {
          flight.#release();
          callback(err);
        });
      },
    });
    async function pump(): Promise<void> {
      try {
        for (;;) {
          if (reader.destroyed) return;
          if (offset < flight.written) {
            const want = Math.min(READ_CHUNK, flight.written - offset);
            const buffer = Buffer.allocUnsafe(want);
            const { bytesRead } = await handle.read(buffer, 0, want, offset);
            offset += bytesRead;
            if (!reader.push(bytesRead === want ? buffer : buffer.subarray(0, bytesRead))) return;
            continue;
          }
          if (flight.state === 'failed') return void reader.destroy(flight.error);
          if (flight.state === 'verified') return void reader.push(null);
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
    await rm(this.path, { force: true }).catch(() => undefined);
  }
}

/** Waits until `stream` wants more, or is gone (then the caller stops writing to it). */
async function drained(stream: PassThrough): Promise<void> {
  if (stream.destroyed) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}
