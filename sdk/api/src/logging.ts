import { FormatRegistry, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { KernelError } from './errors.js';

/**
 * Log sinks: where the kernel's log records go besides (or instead of) stdout. The operator
 * lists sinks in `log.sinks`; each entry's `type` names a sink type. `stdout` and `file` are the
 * kernel's own; any other type is contributed by a `logging` plugin through the
 * `logging.sink` hook (`ctx.hooks.logging.sink.for('loki').tap(...)`).
 *
 * The kernel puts every sink behind a bounded queue: a sink that is slow or down never blocks a
 * request. When the queue is full, records are dropped, counted ({@link LogSinkStats}) and a
 * warning is logged.
 *
 * @see docs/architecture/19-logging.md
 * @since 0.2.0
 */

/**
 * The channel of records that carry no `channel` binding (everything but dedicated streams such
 * as the audit log, which logs with `{ channel: 'audit' }`).
 * @since 0.2.0
 */
export const DEFAULT_LOG_CHANNEL = 'app';

/**
 * One log record on its way to a sink: the serialized JSON line (secrets already scrubbed, no
 * trailing newline) and the same record parsed.
 * @since 0.2.0
 */
export interface LogRecord {
  /** The JSON line as written to stdout, without its newline. */
  readonly line: string;
  /** The parsed record: `level` (pino number), `time` (ms since epoch), `msg`, bindings, fields. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** `fields.channel`, or {@link DEFAULT_LOG_CHANNEL}. */
  readonly channel: string;
  /** `fields.level` (10 trace ... 60 fatal). */
  readonly level: number;
  /** `fields.time`, ms since the epoch. */
  readonly time: number;
}

/**
 * A destination for log records, made by a sink type's tap for one `log.sinks` entry.
 * @since 0.2.0
 */
export interface LogSink {
  /**
   * Delivers records in order. The kernel never calls `write` again before the previous call
   * settled, and batches what arrived meanwhile (at most the entry's `batchSize`). Return
   * nothing when the records were handed over synchronously; return a promise for slow
   * delivery. A rejection drops the batch: its records are counted as dropped and a warning is
   * logged (rate-limited); the next batch is tried again.
   */
  write(records: readonly LogRecord[]): void | Promise<void>;
  /** Flush and release resources at shutdown (the kernel waits a bounded time). */
  close?(): Promise<void>;
}

/**
 * The options every `log.sinks` entry has, whatever its type; type-specific keys sit beside
 * them (`options`).
 * @since 0.2.0
 */
export interface LogSinkEntry {
  readonly type: string;
  /** Channels forwarded; absent: every channel. */
  readonly channels?: readonly string[] | undefined;
  /** Lowest level forwarded; absent: the root `log.level`. */
  readonly level?: string | undefined;
  /** Records held while the sink is busy or down, before new ones are dropped. */
  readonly bufferSize: number;
  /** Most records handed to one `write`. */
  readonly batchSize: number;
  readonly [option: string]: unknown;
}

/**
 * What a sink type's tap receives besides the entry.
 * @since 0.2.0
 */
export interface LogSinkContext {
  /** The entry's config path, e.g. `log.sinks[2]`, for error messages. */
  readonly path: string;
  /** The entry's type-specific keys (the entry without `type`, `channels`, `level`, `bufferSize`, `batchSize`). */
  readonly options: Readonly<Record<string, unknown>>;
  /** The config file's directory: relative paths in options resolve from here. */
  readonly baseDir: string;
}

/**
 * Checks a sink entry's type-specific options against a TypeBox schema (defaults applied) and
 * returns them typed (formats: `uri`); a problem throws `REG_ERR_CONFIG_INVALID` naming the key, e.g.
 * `log.sinks[2].port: must be integer`, which stops the boot.
 * @since 0.2.0
 */
export function checkSinkOptions<S extends TSchema>(schema: S, context: LogSinkContext): Static<S> {
  // TypeBox checks formats it knows; `uri` is the one sink options need (endpoints).
  if (!FormatRegistry.Has('uri')) FormatRegistry.Set('uri', (v) => URL.canParse(v) && /^[a-z][a-z0-9+.-]*:/i.test(v));
  const value = Value.Default(schema, structuredClone(context.options)) as unknown;
  const problems = [...Value.Errors(schema, value)].map((e) => {
    const key = e.path.replace(/^\//, '').replace(/\//g, '.');
    return `${context.path}${key ? `.${key}` : ''}: ${e.message}`;
  });
  if (problems.length > 0) throw new KernelError('REG_ERR_CONFIG_INVALID', problems.join('; '));
  return value as Static<S>;
}

/**
 * Counters of one configured sink.
 * @since 0.2.0
 */
export interface LogSinkCounters {
  /** `log.sinks[i]` */
  readonly path: string;
  readonly type: string;
  /** Records handed to the sink. */
  readonly written: number;
  /** Records dropped: queue full, or a failed `write`. */
  readonly dropped: number;
  /** Records waiting now. */
  readonly queued: number;
}

/**
 * The log sinks' counters, for metrics (`coreServices.logSinks`).
 * @since 0.2.0
 */
export interface LogSinkStats {
  /** Records dropped by every sink since boot. */
  getDroppedCount(): number;
  /** One entry per configured sink, in config order. */
  stats(): readonly LogSinkCounters[];
}
