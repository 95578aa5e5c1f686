import type { Logger } from 'pino';

/**
 * The jobs service: durable background work, provided by the kernel as `coreServices.jobs`.
 * Two backends behind one interface, chosen by the `jobs` config: `embedded` (jobs persisted in
 * the metadata database; nothing else to run) and `redis` (BullMQ, for many nodes).
 *
 * Guarantees, on both backends:
 * - at-least-once: a job whose process dies is run again after its lease expires, so handlers
 *   must be idempotent;
 * - retries with exponential backoff up to `maxAttempts`;
 * - at most `concurrency` jobs of a type run at once on each node;
 * - a cron schedule fires once per tick across all nodes;
 * - finished jobs are kept for a bounded history and then deleted.
 *
 * @see docs/architecture/13-jobs.md
 * @since 0.1.0
 */

/** How a job type runs. */
export interface JobTypeOptions {
  /** Jobs of this type running at once on one node. Default 1. */
  readonly concurrency?: number;
  /** Runs before the job fails for good (the first run counts). Default 3. */
  readonly maxAttempts?: number;
  /** Delay before the first retry; doubles on each further retry. Default 1000 ms. */
  readonly backoffMs?: number;
  /** Cap on the retry delay. Default 5 minutes. */
  readonly maxBackoffMs?: number;
}

/** What a handler receives. */
export interface JobContext<P> {
  readonly id: string;
  readonly type: string;
  readonly payload: P;
  /** 1 on the first run. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** Aborted when the job is cancelled or the node shuts down; stop promptly. */
  readonly signal: AbortSignal;
  /**
   * Appends a line to the job's own log (kept with the job, readable through the API), whatever
   * the node's log level: for lines an operator must always see.
   */
  log(message: string): Promise<void>;
  /**
   * The node's logger with the job id and type bound. Every line written during the attempt at
   * the node's log level, through this logger or any other (the plugin's `ctx.logger` too), is
   * also kept in the job's log, redacted, at most `jobs.history.maxLogLines` per attempt, and
   * read with {@link JobService.log} or `GET /api/v1/jobs/{id}/log`.
   */
  readonly logger: Logger;
}

/**
 * A job's handler. Resolve for success; throw to retry (until `maxAttempts`); throw a
 * {@link PermanentJobError} to fail at once.
 */
export type JobHandler<P> = (ctx: JobContext<P>) => Promise<void>;

/** A failure retrying cannot fix (bad input, refused credentials). */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

/** True for a {@link PermanentJobError} from any copy of the SDK. */
export function isPermanentJobError(err: unknown): boolean {
  return err instanceof Error && err.name === 'PermanentJobError';
}

/** Where a job is. */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A job as the service reports it. */
export interface JobRecord {
  readonly id: string;
  readonly type: string;
  readonly payload: unknown;
  readonly status: JobStatus;
  readonly attempts: number;
  readonly maxAttempts: number;
  /** The last failure's message, when there was one. */
  readonly error?: string | undefined;
  readonly createdAt: Date;
  readonly finishedAt?: Date | undefined;
}

/** One line of a job's log. */
export interface JobLogLine {
  readonly at: Date;
  readonly message: string;
}

/** Options of {@link JobService.enqueue}. */
export interface EnqueueOptions {
  /**
   * Idempotency key: while a job with this key is queued or running, enqueueing another with
   * the same key returns the existing job's id instead of adding one.
   */
  readonly key?: string;
  /** Do not start before this many milliseconds from now. */
  readonly delayMs?: number;
}

/** The jobs service. */
export interface JobService {
  /** Which backend runs the jobs. */
  readonly backend: 'embedded' | 'redis';
  /**
   * Declares a job type and its handler. Call it during `register` or from a `lifecycle.ready`
   * tap, on every node: a node only runs the types it knows.
   */
  define<P>(type: string, handler: JobHandler<P>, options?: JobTypeOptions): void;
  /** Adds a job; resolves with its id once it is durably stored. */
  enqueue<P>(type: string, payload: P, options?: EnqueueOptions): Promise<string>;
  /**
   * Creates or replaces a cron schedule (5 fields, or 6 with seconds first) that enqueues a job
   * of `type` with `payload` once per tick across all nodes.
   */
  schedule<P>(name: string, cron: string, type: string, payload: P): Promise<void>;
  /** Removes a schedule; resolves `false` when there was none. */
  unschedule(name: string): Promise<boolean>;
  /**
   * Cancels a job: a queued one never runs, a running one sees its `signal` aborted. Resolves
   * `false` when the job is unknown or already finished.
   */
  cancel(id: string): Promise<boolean>;
  /** Cancels the queued or running job holding an idempotency key. */
  cancelByKey(key: string): Promise<boolean>;
  get(id: string): Promise<JobRecord | undefined>;
  /**
   * The job's log lines, oldest first: those of `ctx.log` and those its attempts logged (see
   * {@link JobContext.logger}).
   */
  log(id: string): Promise<JobLogLine[]>;
  /**
   * Jobs waiting to run (queued, delayed or waiting for a retry), by type. The embedded backend
   * counts every type in the database; the Redis backend the types this node defined. Types
   * with nothing waiting may be missing.
   * @since 0.2.0
   */
  queueDepth(): Promise<Readonly<Record<string, number>>>;
}
