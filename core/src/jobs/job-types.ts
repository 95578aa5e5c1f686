import { isPermanentJobError, type JobAttempt, type JobHandler, type JobTypeOptions } from '@wharf/sdk';
import type { JobType } from './types.js';

/**
 * The job types this node knows. Both backends use it: `define` checks its input here, so a
 * typo fails where it was made (in `register` or a ready tap), not when a job first runs.
 */

/** Letters, digits, `.`, `_`, `-`: safe as a BullMQ queue name and in ids (`type:n`). */
const TYPE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const DEFAULTS = Object.freeze({ concurrency: 1, maxAttempts: 3, backoffMs: 1000, maxBackoffMs: 5 * 60_000 });

export function checkTypeName(type: string): void {
  if (typeof type !== 'string' || !TYPE_NAME.test(type)) {
    throw new TypeError(`job type "${String(type)}" must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
}

function positiveInt(type: string, name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) throw new TypeError(`job type "${type}": ${name} must be an integer >= ${min}`);
  return value;
}

/** Reports each run of `handler` (the `jobs.attemptFinished` hook); the handler's outcome is unchanged. */
function observed(type: string, handler: JobHandler<unknown>, observe: (attempt: JobAttempt) => void): JobHandler<unknown> {
  return async (ctx) => {
    const started = performance.now();
    try {
      await handler(ctx);
      observe({ type, outcome: 'succeeded', attempt: ctx.attempt, durationMs: performance.now() - started });
    } catch (err) {
      const last = isPermanentJobError(err) || ctx.attempt >= ctx.maxAttempts;
      observe({ type, outcome: last ? 'failed' : 'retry', attempt: ctx.attempt, durationMs: performance.now() - started });
      throw err;
    }
  };
}

export class JobTypes {
  private readonly types = new Map<string, JobType>();
  private readonly listeners: ((t: JobType) => void)[] = [];

  /** `observe`: told of every handler run (the kernel's `jobs.attemptFinished`). */
  constructor(private readonly observe?: (attempt: JobAttempt) => void) {}

  define<P>(type: string, handler: JobHandler<P>, options: JobTypeOptions = {}): JobType {
    checkTypeName(type);
    if (typeof handler !== 'function') throw new TypeError(`job type "${type}": the handler must be a function`);
    if (this.types.has(type)) throw new Error(`job type "${type}" is already defined`);
    const backoffMs = positiveInt(type, 'backoffMs', options.backoffMs, DEFAULTS.backoffMs, 0);
    const def: JobType = Object.freeze({
      type,
      handler: this.observe ? observed(type, handler as JobHandler<unknown>, this.observe) : (handler as JobHandler<unknown>),
      concurrency: positiveInt(type, 'concurrency', options.concurrency, DEFAULTS.concurrency, 1),
      maxAttempts: positiveInt(type, 'maxAttempts', options.maxAttempts, DEFAULTS.maxAttempts, 1),
      backoffMs,
      maxBackoffMs: positiveInt(type, 'maxBackoffMs', options.maxBackoffMs, Math.max(DEFAULTS.maxBackoffMs, backoffMs), 0),
    });
    this.types.set(type, def);
    for (const l of this.listeners) l(def);
    return def;
  }

  get(type: string): JobType | undefined {
    return this.types.get(type);
  }

  all(): JobType[] {
    return [...this.types.values()];
  }

  /** Attempts for a job enqueued here: the local definition's, or the default for a type another node runs. */
  maxAttemptsOf(type: string): number {
    return this.types.get(type)?.maxAttempts ?? DEFAULTS.maxAttempts;
  }

  /** Called for every type defined from now on (a started backend starts its workers). */
  onDefine(listener: (t: JobType) => void): void {
    this.listeners.push(listener);
  }
}

/** A `JobLogLine` message is kept to this many characters (the column's size). */
export const MAX_LOG_MESSAGE = 2048;
export const MAX_ERROR = 2048;

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

export function defaultNodeId(hostname: string): string {
  return `${hostname}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
}
