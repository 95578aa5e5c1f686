import { DEFAULT_LOG_CHANNEL, type LogRecord, type LogSink, type LogSinkCounters } from '@wharf/sdk';

/**
 * One configured sink behind a bounded queue. `push` never waits: when the sink is idle the
 * records go straight to it (a synchronous sink such as stdout sees each line at once); while a
 * write is pending, records queue up to `bufferSize`, and past that they are dropped and counted.
 * A sink given later (`attach`, for plugin sink types) starts with what queued meanwhile.
 */

export interface SinkRunnerOptions {
  readonly path: string;
  readonly type: string;
  readonly channels?: readonly string[] | undefined;
  /** Lowest pino level number forwarded. */
  readonly minLevel: number;
  /**
   * Whether `minLevel` applies to every channel (a sink with its own `level`) or only to the
   * application's lines (`log.level`): records of another channel (the audit log's) are data the
   * producer chose to emit, so the diagnostic level never hides them.
   */
  readonly levelAppliesTo: 'all' | 'app';
  readonly bufferSize: number;
  readonly batchSize: number;
  /** Called (outside the write path) when records were dropped; the router rate-limits warnings. */
  readonly onDrop: (runner: SinkRunner, count: number, reason: string) => void;
}

export class SinkRunner {
  private sink: LogSink | undefined;
  private readonly queue: LogRecord[] = [];
  private busy = false;
  private closed = false;
  private written = 0;
  private dropped = 0;
  private idle: (() => void)[] = [];

  constructor(readonly options: SinkRunnerOptions, sink?: LogSink) {
    this.sink = sink;
  }

  accepts(record: LogRecord): boolean {
    const filtered = this.options.levelAppliesTo === 'all' || record.channel === DEFAULT_LOG_CHANNEL;
    if (filtered && record.level < this.options.minLevel) return false;
    const channels = this.options.channels;
    return channels === undefined || channels.includes(record.channel);
  }

  attach(sink: LogSink): void {
    this.sink = sink;
    this.pump();
  }

  push(record: LogRecord): void {
    if (this.closed) return;
    if (this.queue.length >= this.options.bufferSize) {
      this.drop(1, 'buffer full');
      return;
    }
    this.queue.push(record);
    this.pump();
  }

  counters(): LogSinkCounters {
    return { path: this.options.path, type: this.options.type, written: this.written, dropped: this.dropped, queued: this.queue.length };
  }

  /** Resolves once nothing is queued or being written (tests, shutdown). */
  drained(): Promise<void> {
    if (!this.busy && (this.queue.length === 0 || !this.sink)) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Waits up to `timeoutMs` for the queue to drain, then closes the sink and stops taking records. */
  async close(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.drained(), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    // A sink with nothing to release (stdout) keeps writing: the last lines of a shutdown
    // ("shutdown failed") come after the kernel closed.
    if (!this.sink?.close) return;
    this.closed = true;
    this.queue.length = 0;
    await this.sink.close();
  }

  private drop(count: number, reason: string): void {
    this.dropped += count;
    this.options.onDrop(this, count, reason);
  }

  private pump(): void {
    const sink = this.sink;
    while (sink && !this.busy && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.batchSize);
      let result: void | Promise<void>;
      try {
        result = sink.write(batch);
      } catch (err) {
        this.drop(batch.length, (err as Error)?.message ?? String(err));
        continue;
      }
      if (result === undefined || typeof (result as Promise<void>).then !== 'function') {
        this.written += batch.length;
        continue;
      }
      this.busy = true;
      result.then(
        () => {
          this.written += batch.length;
        },
        (err: unknown) => this.drop(batch.length, (err as Error)?.message ?? String(err)),
      ).finally(() => {
        this.busy = false;
        this.pump();
      });
    }
    if (!this.busy && (this.queue.length === 0 || !sink)) for (const resolve of this.idle.splice(0)) resolve();
  }
}
