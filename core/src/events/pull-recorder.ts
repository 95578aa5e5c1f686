import type { EventDraft } from '@wharf/sdk';

/**
 * Pull events in batches, so counting pulls never costs a database write per pull (Harbor had
 * to add switches to turn per-pull writes off). Two modes (`events.pullFlushMs`):
 * - `0`, group commit: a pull waits for the write that records it; pulls arriving while a
 *   write runs share the next one. Nothing acknowledged is lost, but every pull waits for a
 *   commit and batches are only as large as the pulls that arrive during one write.
 * - `> 0`, buffered: a pull is appended to a buffer and served at once; the buffer is written
 *   every `flushMs` (or sooner when it holds `batchSize` pulls). A crash loses at most the pulls
 *   of the last interval (a pull changes nothing, so nothing else is lost); a stop writes them.
 *   While the database does not answer, at most {@link MAX_PENDING_BATCHES} batches wait in
 *   memory; pulls beyond them are dropped (and counted in a warning), never the GETs.
 */

/** Batches (of `batchSize`) the buffer may hold while writes are slow or failing. */
export const MAX_PENDING_BATCHES = 20;

interface Waiting {
  readonly draft: EventDraft<unknown>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export interface PullRecorderOptions {
  readonly write: (drafts: ReadonlyArray<EventDraft<unknown>>) => Promise<void>;
  readonly batchSize: number;
  /** 0: group commit; otherwise the longest a pull stays in the buffer, in ms. */
  readonly flushMs: number;
  /** A buffered batch that could not be written (nobody waits for it to report the error). */
  readonly onError: (err: unknown, pulls: number) => void;
  /** Pulls dropped because too many waited for slow writes (reported at the next flush). */
  readonly onDropped: (pulls: number) => void;
}

export class PullRecorder {
  #queue: Waiting[] = [];
  #buffer: Array<EventDraft<unknown>> = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  /** Buffered pulls not yet written, and pulls dropped since the last report. */
  #pending = 0;
  #dropped = 0;

  constructor(private readonly options: PullRecorderOptions) {}

  /** Whether a write is under way or pulls wait for one. */
  get busy(): boolean {
    return this.#flushing !== undefined || this.#buffer.length > 0;
  }

  /** Records a pull: a promise of its write in group-commit mode, `undefined` when buffered. */
  record(draft: EventDraft<unknown>): Promise<void> | undefined {
    if (this.options.flushMs > 0) {
      if (this.#pending >= MAX_PENDING_BATCHES * this.options.batchSize) {
        this.#dropped += 1;
        return undefined;
      }
      this.#pending += 1;
      this.#buffer.push(draft);
      if (this.#buffer.length >= this.options.batchSize) this.flushBuffer();
      else this.#timer ??= setTimeout(() => this.flushBuffer(), this.options.flushMs).unref();
      return undefined;
    }
    const done = new Promise<void>((resolve, reject) => this.#queue.push({ draft, resolve, reject }));
    this.#flushing ??= this.flush();
    return done;
  }

  /** Writes everything recorded so far and resolves once it is written (for shutdown). */
  async drain(): Promise<void> {
    this.flushBuffer();
    while (this.#flushing) await this.#flushing;
  }

  /** Hands the buffer to the writer, after the write in progress (one write at a time). */
  private flushBuffer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#dropped > 0) {
      this.options.onDropped(this.#dropped);
      this.#dropped = 0;
    }
    if (this.#buffer.length === 0) return;
    const batch = this.#buffer;
    this.#buffer = [];
    const previous = this.#flushing ?? Promise.resolve();
    const current: Promise<void> = previous
      .then(() => this.options.write(batch))
      .catch((err: unknown) => this.options.onError(err, batch.length))
      .finally(() => {
        this.#pending -= batch.length;
        if (this.#flushing === current) this.#flushing = undefined;
      });
    this.#flushing = current;
  }

  private async flush(): Promise<void> {
    // Let the pulls of the current tick join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.options.batchSize);
        try {
          await this.options.write(batch.map((w) => w.draft));
          for (const w of batch) w.resolve();
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.#flushing = undefined;
    }
  }
}
