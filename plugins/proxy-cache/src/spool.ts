import { EventEmitter, once } from 'node:events';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Digest } from '@wharf/sdk';

/**
 * One blob on its way from an upstream: written to a spool file as it arrives, hashed on the
 * way, and handed to storage through `commit`. Every client pulling the blob meanwhile reads
 * the spool file from the start and follows it as it grows, so one upstream download serves
 * them all and memory stays flat (no reader holds more than one read chunk). Storage is fed by
 * one more such reader. A reader ends only once the whole blob arrived and the adapter's stream
 * ended without error (it checks the digest); a bad or cut blob errors every reader (responses
 * are aborted, the storage upload discarded: the kernel's `putBlob` checks the digest again
 * before it commits).
 */

const READ_CHUNK = 256 * 1024;
const WRITE_BATCH = 1024 * 1024;

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
   * Copies `source` into the spool file; resolves once every byte is written and the source
   * ended cleanly (readers then end), rejects with why not (readers then fail). The source is a
   * `ReplicationTarget.readBlob` stream, which fails at its end when the bytes do not match the
   * digest (the SDK contract; the OCI adapter hashes them), so the bytes are not hashed a third
   * time here: storage hashes them once more before it commits. Storage is one more reader, so
   * neither a slow disk nor a slow client slows the download or the other clients.
   */
  async fill(source: Readable, onBytes: (n: number) => void): Promise<void> {
    try {
      // Chunks are written to the file in batches of up to WRITE_BATCH bytes: one positional
      // writev per batch instead of one per network chunk (often 16-64 KiB).
      let batch: Buffer[] = [];
      let batched = 0;
      for await (const chunk of source as AsyncIterable<Buffer>) {
        if (this.written + batched + chunk.length > this.size) throw new Error(`the upstream sent more than the ${this.size} bytes it announced`);
        batch.push(chunk);
        batched += chunk.length;
        if (batched < WRITE_BATCH) continue;
        await this.#append(batch, batched, onBytes);
        batch = [];
        batched = 0;
      }
      await this.#append(batch, batched, onBytes);
      if (this.written !== this.size) throw new Error(`the upstream sent ${this.written} of ${this.size} bytes`);
      this.state = 'verified';
    } catch (err) {
      source.destroy();
      this.error = err instanceof Error ? err : new Error(String(err));
      this.state = 'failed';
      throw this.error;
    } finally {
      await this.file.close().catch(() => undefined);
      this.emit('progress');
    }
  }

  async #append(batch: Buffer[], bytes: number, onBytes: (n: number) => void): Promise<void> {
    if (bytes === 0) return;
    await this.file.writev(batch, this.written);
    this.written += bytes;
    onBytes(bytes);
    this.emit('progress');
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
