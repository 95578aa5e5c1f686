import type { EventDraft } from '@wharf/sdk';

/**
 * Group commit for pull events: a pull waits for the write that records it, but pulls arriving
 * while a write runs share the next one. At high rates that is one database write per batch,
 * not per pull (Harbor had to add switches to turn per-pull writes off); when idle, a pull is
 * written at once.
 */

interface Waiting {
  readonly draft: EventDraft<unknown>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class PullRecorder {
  #queue: Waiting[] = [];
  #flushing: Promise<void> | undefined;

  constructor(
    private readonly write: (drafts: ReadonlyArray<EventDraft<unknown>>) => Promise<void>,
    private readonly batchSize: number,
  ) {}

  record(draft: EventDraft<unknown>): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.#queue.push({ draft, resolve, reject }));
    this.#flushing ??= this.flush();
    return done;
  }

  /** Resolves once everything recorded so far is written (for shutdown). */
  async drain(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  private async flush(): Promise<void> {
    // Let the pulls of the current tick join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.batchSize);
        try {
          await this.write(batch.map((w) => w.draft));
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

