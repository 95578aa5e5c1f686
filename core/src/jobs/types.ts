import type { JobAttempt, JobHandler, JobService, JobTypeOptions } from '@wharf/sdk';
import type { Logger } from 'pino';
import type { JobsSettings } from '../config/types.js';

/** The kernel's side of the jobs service: what plugins see, plus start and stop. */
export interface JobRuntime extends JobService {
  /** Starts the workers (after `lifecycle.ready`); types defined later start at once. */
  start(): Promise<void>;
  /**
   * Stops taking jobs, aborts running handlers, waits up to `stopTimeoutMs` and queues
   * unfinished jobs again without using up an attempt. Closes connections. Idempotent.
   */
  stop(): Promise<void>;
}

/** A defined job type with every option filled in. */
export interface JobType {
  readonly type: string;
  readonly handler: JobHandler<unknown>;
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

export interface JobRuntimeOptions {
  readonly settings: JobsSettings;
  readonly logger: Logger;
  /** Identifies this node in leases (default: host, pid and a random suffix). */
  readonly nodeId?: string;
  /** How often finished jobs beyond the history bounds are deleted (default 60 s). */
  readonly sweepIntervalMs?: number;
  /** Told of every handler run on this node (the kernel calls `jobs.attemptFinished`). */
  readonly observe?: (attempt: JobAttempt) => void;
}

export type { JobTypeOptions };
