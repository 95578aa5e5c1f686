import type { Logger } from 'pino';
import { DEFAULT_LOG_CHANNEL, KernelError, type LogRecord, type LogSink, type LogSinkContext, type LogSinkEntry, type LogSinkStats } from '@wharf/sdk';
import type { LogLevel } from '../../config/types.js';
import { createFileSink } from './file.js';
import { SinkRunner } from './runner.js';
import { createStdoutSink } from './stdout.js';

/**
 * The root logger's destination: each serialized line (already scrubbed of secrets) is parsed
 * once and handed to every sink whose channels and level accept it. Built-in sinks (`stdout`,
 * `file`) exist from the first line; a plugin type's sink is attached once the plugins have
 * registered, and what was logged before waits in its bounded queue.
 */

const LEVEL_NUMBERS: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const COMMON_KEYS = new Set(['type', 'channels', 'level', 'bufferSize', 'batchSize']);
/** At most one "dropping" warning per sink in this window. */
const WARN_EVERY_MS = 30_000;

export interface LogRouterOptions {
  readonly sinks: readonly LogSinkEntry[];
  readonly level: LogLevel;
  readonly pretty: boolean;
  /** What the stdout sink writes to (CLI: stderr; tests: a capture stream). */
  readonly stdout?: NodeJS.WritableStream | { write(chunk: string): unknown } | undefined;
  readonly baseDir: string;
}

export type SinkTypeLookup = (type: string, entry: LogSinkEntry, context: LogSinkContext) => LogSink | undefined;

function toRecord(line: string): LogRecord | undefined {
  const text = line.endsWith('\n') ? line.slice(0, -1) : line;
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const channel = typeof fields.channel === 'string' ? fields.channel : DEFAULT_LOG_CHANNEL;
  const level = typeof fields.level === 'number' ? fields.level : 30;
  const time = typeof fields.time === 'number' ? fields.time : Date.now();
  return { line: text, fields, channel, level, time };
}

export class LogRouter implements LogSinkStats {
  private readonly runners: SinkRunner[] = [];
  private readonly contexts = new Map<SinkRunner, { entry: LogSinkEntry; context: LogSinkContext }>();
  private logger: Logger | undefined;
  private readonly lastWarning = new Map<SinkRunner, number>();
  private readonly pendingDrops = new Map<SinkRunner, { count: number; reason: string }>();

  constructor(options: LogRouterOptions) {
    options.sinks.forEach((entry, index) => {
      const path = `log.sinks[${index}]`;
      const options_ = Object.fromEntries(Object.entries(entry).filter(([k]) => !COMMON_KEYS.has(k)));
      const context: LogSinkContext = { path, options: Object.freeze(options_), baseDir: options.baseDir };
      const runner = new SinkRunner({
        path,
        type: entry.type,
        channels: entry.channels,
        minLevel: LEVEL_NUMBERS[(entry.level as LogLevel | undefined) ?? options.level] ?? 30,
        levelAppliesTo: entry.level === undefined ? 'app' : 'all',
        bufferSize: entry.bufferSize ?? 10_000,
        batchSize: entry.batchSize ?? 100,
        onDrop: (r, count, reason) => this.dropped(r, count, reason),
      });
      if (entry.type === 'stdout') {
        if (Object.keys(options_).length > 0) {
          throw new KernelError('REG_ERR_CONFIG_INVALID', `${path}.${Object.keys(options_)[0]}: is not a known key of a stdout sink`);
        }
        runner.attach(createStdoutSink({ pretty: options.pretty, stream: options.stdout }));
      } else if (entry.type === 'file') runner.attach(createFileSink(context));
      else this.contexts.set(runner, { entry, context });
      this.runners.push(runner);
    });
  }

  /** The root logger, for the "sink dropping records" warnings. */
  setLogger(logger: Logger): void {
    this.logger = logger;
  }

  /** pino's destination: one serialized line per call. */
  write(line: string): void {
    const record = toRecord(line);
    if (!record) return;
    for (const runner of this.runners) if (runner.accepts(record)) runner.push(record);
  }

  /** Plugin sink types still waiting for their sink. */
  pendingTypes(): string[] {
    return [...this.contexts.values()].map((c) => c.entry.type);
  }

  /** Makes each plugin type's sink through `lookup` (the `logging.sink` hook); unknown types stop the boot. */
  attachPluginSinks(lookup: SinkTypeLookup): void {
    for (const [runner, { entry, context }] of this.contexts) {
      const sink = lookup(entry.type, entry, context);
      if (!sink) {
        throw new KernelError('REG_ERR_CONFIG_INVALID', `${context.path}.type: no sink type "${entry.type}": no loaded logging plugin provides it (stdout and file are built in)`);
      }
      runner.attach(sink);
      this.contexts.delete(runner);
    }
  }

  getDroppedCount(): number {
    return this.runners.reduce((n, r) => n + r.counters().dropped, 0);
  }

  stats() {
    return this.runners.map((r) => r.counters());
  }

  /** Resolves once every attached sink has written what it was given (tests). */
  async drained(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.drained()));
  }

  async close(timeoutMs = 5000): Promise<void> {
    this.flushWarnings();
    await Promise.all(this.runners.map((r) => r.close(timeoutMs).catch(() => undefined)));
  }

  /**
   * Counts are kept by the runner; the warning is logged later (never from inside a write) and
   * at most once per sink per {@link WARN_EVERY_MS}, with the drops since the last one.
   */
  private dropped(runner: SinkRunner, count: number, reason: string): void {
    const pending = this.pendingDrops.get(runner);
    this.pendingDrops.set(runner, { count: (pending?.count ?? 0) + count, reason });
    if (pending) return; // a warning is already scheduled
    const delay = Math.max(0, (this.lastWarning.get(runner) ?? -Infinity) + WARN_EVERY_MS - Date.now());
    setTimeout(() => this.flushWarnings(runner), delay).unref();
  }

  private flushWarnings(only?: SinkRunner): void {
    for (const [runner, { count, reason }] of this.pendingDrops) {
      if (only && runner !== only) continue;
      this.pendingDrops.delete(runner);
      this.lastWarning.set(runner, Date.now());
      const { path, type } = runner.options;
      this.logger?.warn({ sink: path, sinkType: type, dropped: count, totalDropped: runner.counters().dropped, reason }, 'log sink dropping records');
    }
  }
}
