import os from 'node:os';
import type { Knex } from 'knex';
import { isPermanentJobError, type EnqueueOptions, type JobHandler, type JobLogLine, type JobRecord, type JobTypeOptions } from '@wharf/sdk';
import type { Logger } from 'pino';
import { backoffDelay } from '../backoff.js';
import { checkCron, nextTick } from '../cron.js';
import { checkTypeName, clip, defaultNodeId, errorText, JobTypes, MAX_ERROR, MAX_LOG_MESSAGE } from '../job-types.js';
import type { JobRuntime, JobRuntimeOptions, JobType } from '../types.js';
import { Wakeable } from './wakeable.js';
import { JobStore, type ClaimedJob } from './store.js';
import { withLogContext } from '../../logging/log-context.js';
import { DEFAULT_MAX_LOG_LINES, jobLogCapture } from '../job-log-capture.js';

/**
 * The embedded backend: jobs in the metadata database. One loop per node polls for due cron
 * ticks and due jobs and claims them with conditional UPDATEs; a heartbeat extends the leases
 * of running jobs, notices cancels asked for on any node, and re-queues jobs whose node died.
 */

type StopReason = 'cancel' | 'shutdown' | 'lease lost';

interface Running {
  readonly job: ClaimedJob;
  readonly controller: AbortController;
  reason: StopReason | undefined;
  /** Given back at shutdown: whatever the handler does later must not touch the row. */
  released: boolean;
  readonly done: Promise<void>;
}

const DEFAULT_SWEEP_MS = 60_000;

export class EmbeddedJobService implements JobRuntime {
  readonly backend = 'embedded' as const;
  private readonly store: JobStore;
  private readonly types: JobTypes;
  private readonly running = new Map<string, Running>();
  private readonly owner: string;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly wake = new Wakeable();
  private state: 'created' | 'started' | 'stopping' | 'stopped' = 'created';
  private loop: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly logger: Logger;

  constructor(
    knex: Knex,
    private readonly options: JobRuntimeOptions,
  ) {
    this.types = new JobTypes(options.observe);
    this.store = new JobStore(knex);
    this.owner = options.nodeId ?? defaultNodeId(os.hostname());
    this.leaseMs = options.settings.leaseSeconds * 1000;
    // Three renewals per lease, and cancels seen within a few seconds even with long leases.
    this.heartbeatMs = Math.max(50, Math.min(this.leaseMs / 3, 5000));
    this.logger = options.logger;
  }

  define<P>(type: string, handler: JobHandler<P>, options?: JobTypeOptions): void {
    this.types.define(type, handler, options);
    this.wake.wake();
  }

  async enqueue<P>(type: string, payload: P, options: EnqueueOptions = {}): Promise<string> {
    checkTypeName(type);
    const delay = Math.max(0, options.delayMs ?? 0);
    const id = await this.store.enqueue({ type, payload, maxAttempts: this.types.maxAttemptsOf(type), runAt: Date.now() + delay, key: options.key });
    if (delay === 0) this.wake.wake();
    return id;
  }

  async schedule<P>(name: string, cron: string, type: string, payload: P): Promise<void> {
    checkScheduleName(name);
    checkTypeName(type);
    checkCron(cron);
    await this.store.upsertSchedule({ name, cron, type, payload, nextRunAt: nextTick(cron, Date.now()) });
  }

  unschedule(name: string): Promise<boolean> {
    return this.store.deleteSchedule(name);
  }

  async cancel(id: string): Promise<boolean> {
    const result = await this.store.cancel(id);
    // Running here: abort now rather than at the next heartbeat.
    if (result === 'requested') this.abort(id, 'cancel');
    return result !== false;
  }

  async cancelByKey(key: string): Promise<boolean> {
    const id = await this.store.idByKey(key);
    return id === undefined ? false : this.cancel(id);
  }

  get(id: string): Promise<JobRecord | undefined> {
    return this.store.get(id);
  }

  log(id: string): Promise<JobLogLine[]> {
    return this.store.log(id);
  }

  async queueDepth(): Promise<Readonly<Record<string, number>>> {
    return this.store.queuedByType();
  }

  /** Deletes finished jobs beyond the history bounds (runs periodically; exposed for tests). */
  sweep(): Promise<number> {
    const { keep, maxAgeDays } = this.options.settings.history;
    return this.store.sweep(keep, maxAgeDays * 86_400_000);
  }

  async start(): Promise<void> {
    if (this.state !== 'created') return;
    this.state = 'started';
    this.timers.push(setInterval(() => void this.heartbeat(), this.heartbeatMs));
    this.timers.push(setInterval(() => void this.sweep().catch((err: unknown) => this.logger.warn({ err }, 'jobs history sweep failed')), this.options.sweepIntervalMs ?? DEFAULT_SWEEP_MS));
    for (const t of this.timers) t.unref();
    this.loop = this.pollLoop();
    this.logger.info({ backend: 'embedded', node: this.owner, types: this.types.all().map((t) => t.type) }, 'jobs started');
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    const wasStarted = this.state === 'started';
    this.state = 'stopping';
    for (const t of this.timers) clearInterval(t);
    this.wake.wake();
    await this.loop;
    if (wasStarted && this.running.size > 0) {
      for (const id of this.running.keys()) this.abort(id, 'shutdown');
      const all = Promise.all([...this.running.values()].map((r) => r.done));
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.settings.stopTimeoutMs)));
      await Promise.race([all, bound]);
      clearTimeout(timer);
      // Handlers that did not stop in time: give their jobs back so another node runs them now.
      for (const [id, r] of this.running) {
        r.released = true;
        await this.store.release(id, this.owner).catch((err: unknown) => this.logger.warn({ err, jobId: id }, 'could not release job at shutdown'));
        this.logger.warn({ jobId: id, jobType: r.job.type }, 'job handler did not stop in time; job queued again');
      }
    }
    this.state = 'stopped';
  }

  private async pollLoop(): Promise<void> {
    while (this.state === 'started') {
      try {
        await this.fireSchedules();
        await this.claimDue();
      } catch (err) {
        this.logger.warn({ err }, 'jobs poll failed');
      }
      if (this.state !== 'started') break;
      await this.wake.wait(this.options.settings.pollIntervalMs);
    }
  }

  private async fireSchedules(): Promise<void> {
    for (const s of await this.store.dueSchedules()) {
      // Ticks missed while no node ran are skipped, not caught up one by one.
      const next = nextTick(s.cron, Math.max(s.due, Date.now()));
      const id = await this.store.fireTick(s.name, s.due, next, { type: s.type, payload: s.payload, maxAttempts: this.types.maxAttemptsOf(s.type), runAt: s.due });
      if (id !== undefined) this.logger.debug({ schedule: s.name, jobId: id, tick: new Date(s.due).toISOString() }, 'cron tick fired');
    }
  }

  private async claimDue(): Promise<void> {
    for (const def of this.types.all()) {
      let free = def.concurrency - this.runningOf(def.type);
      if (free <= 0) continue;
      for (const id of await this.store.due(def.type, free * 2)) {
        if (free <= 0 || this.state !== 'started') break;
        const job = await this.store.claim(id, this.owner, this.leaseMs);
        if (!job) continue; // another node took it
        free -= 1;
        this.run(def, job);
      }
    }
  }

  private runningOf(type: string): number {
    let n = 0;
    for (const r of this.running.values()) if (r.job.type === type) n += 1;
    return n;
  }

  private run(def: JobType, job: ClaimedJob): void {
    const controller = new AbortController();
    const logger = this.logger.child({ jobId: job.id, jobType: job.type });
    const kept = jobLogCapture((message) => this.store.appendLog(job.id, message), this.options.settings.history.maxLogLines ?? DEFAULT_MAX_LOG_LINES, this.logger);
    const entry = { job, controller, reason: undefined, released: false } as Omit<Running, 'done'> & { done?: Promise<void> };
    const ctx = {
      id: job.id,
      type: job.type,
      payload: job.payload,
      attempt: job.attempts,
      maxAttempts: job.maxAttempts,
      signal: controller.signal,
      logger,
      log: async (message: string) => {
        await this.store.appendLog(job.id, clip(String(message), MAX_LOG_MESSAGE));
      },
    };
    // Every line written inside the attempt, its outcome's included, carries the job id and is kept in the job's log.
    entry.done = withLogContext({ jobId: job.id, jobType: job.type }, async () => {
      let failure: unknown;
      let ok = false;
      try {
        // Plugins' own loggers inside the handler carry the job id too.
        await def.handler(ctx);
        ok = true;
      } catch (err) {
        failure = err;
      }
      try {
        // The lines first: a finished job's log is complete.
        await kept.flush();
        await this.settle(def, entry as Running, ok, failure, logger);
        await kept.flush();
      } catch (err) {
        // The lease runs out and another node takes the job: at-least-once still holds.
        logger.error({ err }, 'could not record the job outcome');
      } finally {
        this.running.delete(job.id);
        this.wake.wake();
      }
    }, (line) => kept.keep(line));
    this.running.set(job.id, entry as Running);
  }

  private async settle(def: JobType, r: Running, ok: boolean, failure: unknown, logger: Logger): Promise<void> {
    const { job } = r;
    if (r.released || r.reason === 'lease lost') return;
    if (!ok && r.reason === 'shutdown') {
      await this.store.release(job.id, this.owner);
      logger.info('job stopped by shutdown; queued again');
      return;
    }
    if (ok) {
      await this.store.finish(job.id, this.owner, { status: 'succeeded' });
      logger.debug({ attempt: job.attempts }, 'job succeeded');
      return;
    }
    const error = clip(errorText(failure), MAX_ERROR);
    const permanent = isPermanentJobError(failure);
    if (permanent || r.reason === 'cancel' || job.attempts >= job.maxAttempts) {
      await this.store.finish(job.id, this.owner, { status: 'failed', error });
      logger.warn({ err: failure, attempt: job.attempts, permanent }, r.reason === 'cancel' ? 'job cancelled' : 'job failed');
      return;
    }
    const delay = backoffDelay(job.attempts, def.backoffMs, def.maxBackoffMs);
    await this.store.finish(job.id, this.owner, { status: 'retry', error, runAt: Date.now() + delay });
    logger.info({ err: failure, attempt: job.attempts, retryInMs: delay }, 'job failed; will retry');
  }

  private abort(id: string, reason: StopReason): void {
    const r = this.running.get(id);
    if (!r || r.reason !== undefined) return;
    r.reason = reason;
    r.controller.abort(new Error(`job ${reason === 'cancel' ? 'cancelled' : reason === 'shutdown' ? 'stopped: the node is shutting down' : 'lease lost to another node'}`));
  }

  private async heartbeat(): Promise<void> {
    try {
      if (this.running.size > 0) {
        const states = await this.store.heartbeat([...this.running.keys()], this.owner, this.leaseMs);
        for (const id of this.running.keys()) {
          const s = states.get(id);
          if (!s || !s.mine) this.abort(id, 'lease lost');
          else if (s.cancel) this.abort(id, 'cancel');
        }
      }
      const reaped = await this.store.reapExpired();
      if (reaped > 0) {
        this.logger.info({ jobs: reaped }, 'took back jobs whose lease expired');
        this.wake.wake();
      }
    } catch (err) {
      this.logger.warn({ err }, 'jobs heartbeat failed');
    }
  }
}

function checkScheduleName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 128) throw new TypeError('schedule name must be 1-128 characters');
}
