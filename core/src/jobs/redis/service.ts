import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, UnrecoverableError, WaitingError, Worker, type Job, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { isPermanentJobError, type EnqueueOptions, type JobHandler, type JobLogLine, type JobRecord, type JobStatus, type JobTypeOptions } from '@wharf/sdk';
import type { Logger } from 'pino';
import { backoffDelay } from '../backoff.js';
import { checkCron } from '../cron.js';
import { checkTypeName, clip, defaultNodeId, errorText, JobTypes, MAX_LOG_MESSAGE } from '../job-types.js';
import type { JobRuntime, JobRuntimeOptions, JobType } from '../types.js';
import { jobId, parseJobId, wharfKeys } from './keys.js';
import { withLogContext } from '../../logging/log-context.js';
import { DEFAULT_MAX_LOG_LINES, jobLogCapture } from '../job-log-capture.js';

/**
 * The Redis backend, on BullMQ: one queue and one Worker per job type. BullMQ gives the
 * guarantees (attempts with our backoff, per-worker concurrency, stalled-job recovery after
 * the lock expires, job schedulers firing once per tick, bounded history through
 * removeOnComplete/removeOnFail, per-job logs). Wharf adds ids that name their type, a global
 * idempotency-key index, cross-node cancel of running jobs (pub/sub plus a flag), and records
 * of jobs cancelled while queued (BullMQ deletes those).
 */

/** failedReason of a cancelled running job, mapped back to status `cancelled`. */
const CANCELLED = 'wharf: job cancelled';
const QUEUED_STATES = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children', 'paused']);

interface Active {
  readonly controller: AbortController;
  reason: 'cancel' | 'shutdown' | undefined;
  readonly job: Job;
  readonly token: string | undefined;
}

export class RedisJobService implements JobRuntime {
  readonly backend = 'redis' as const;
  private readonly types: JobTypes;
  private readonly keys: ReturnType<typeof wharfKeys>;
  /** Commands and queues: fail after a few retries rather than hang a request while Redis is down. */
  private readonly client: Redis;
  /** Workers block on Redis: BullMQ wants `maxRetriesPerRequest: null` there. */
  private workerClient: Redis | undefined;
  private subscriber: Redis | undefined;
  private readonly queues = new Map<string, Queue>();
  private readonly workers = new Map<string, Worker>();
  private readonly active = new Map<string, Active>();
  private state: 'created' | 'started' | 'stopping' | 'stopped' = 'created';
  private readonly logger: Logger;
  private readonly nodeId: string;

  constructor(private readonly options: JobRuntimeOptions) {
    this.types = new JobTypes(options.observe);
    const { url, prefix } = options.settings.redis;
    if (!url) throw new TypeError('jobs.redis.url is required when jobs.backend is redis');
    this.keys = wharfKeys(prefix);
    this.client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    this.client.on('error', (err: Error) => this.logger.warn({ err: { message: err.message } }, 'redis connection error'));
    this.logger = options.logger;
    this.nodeId = options.nodeId ?? defaultNodeId(os.hostname());
    this.types.onDefine((def) => {
      if (this.state === 'started') this.startWorker(def);
    });
  }

  private get history() {
    const { keep, maxAgeDays } = this.options.settings.history;
    const bound = { count: keep, age: Math.ceil(maxAgeDays * 86_400) };
    return { removeOnComplete: bound, removeOnFail: bound };
  }

  private jobOptions(type: string): JobsOptions {
    return { attempts: this.types.maxAttemptsOf(type), backoff: { type: 'wharf' }, ...this.history };
  }

  private queue(type: string): Queue {
    let q = this.queues.get(type);
    if (!q) {
      q = new Queue(type, { connection: this.client, prefix: this.options.settings.redis.prefix });
      q.on('error', (err: Error) => this.logger.warn({ err: { message: err.message }, jobType: type }, 'jobs queue error'));
      this.queues.set(type, q);
    }
    return q;
  }

  define<P>(type: string, handler: JobHandler<P>, options?: JobTypeOptions): void {
    this.types.define(type, handler, options);
  }

  async enqueue<P>(type: string, payload: P, options: EnqueueOptions = {}): Promise<string> {
    checkTypeName(type);
    const key = options.key;
    if (key !== undefined) {
      // BullMQ deduplicates within a queue; a key held by a live job of another type counts too.
      const holder = await this.client.hget(this.keys.keys, key);
      if (holder !== null && !holder.startsWith(`${type}:`) && (await this.isLive(holder))) return holder;
    }
    const job = await this.queue(type).add(type, payload, {
      ...this.jobOptions(type),
      delay: Math.max(0, options.delayMs ?? 0),
      ...(key === undefined ? {} : { deduplication: { id: key } }),
    });
    const id = jobId(type, String(job.id));
    if (key !== undefined) await this.client.hset(this.keys.keys, key, id);
    return id;
  }

  private async isLive(id: string): Promise<boolean> {
    const parsed = parseJobId(id);
    if (!parsed) return false;
    const job = await this.queue(parsed.type).getJob(parsed.bullId);
    if (!job) return false;
    const state = await job.getState();
    return state === 'active' || QUEUED_STATES.has(state);
  }

  async schedule<P>(name: string, cron: string, type: string, payload: P): Promise<void> {
    if (typeof name !== 'string' || name.length === 0 || name.length > 128) throw new TypeError('schedule name must be 1-128 characters');
    checkTypeName(type);
    checkCron(cron);
    const { removeOnComplete, removeOnFail, attempts, backoff } = this.jobOptions(type);
    const spec = JSON.stringify({ cron, type, payload, attempts, backoff, removeOnComplete, removeOnFail });
    // Every node sets the same schedules at boot. Upserting a scheduler whose tick is running on
    // another node makes BullMQ queue that tick again (it ran twice in the two-process test), so
    // one node at a time, and nothing is written when the schedule is unchanged.
    await this.withScheduleLock(name, async () => {
      const [previous, previousSpec] = await Promise.all([this.client.hget(this.keys.schedules, name), this.client.hget(this.keys.scheduleSpecs, name)]);
      if (previousSpec === spec && (await this.queue(type).getJobScheduler(name))) return;
      await this.queue(type).upsertJobScheduler(
        name,
        { pattern: cron, tz: 'UTC' },
        { name: type, data: payload, opts: { attempts, backoff, removeOnComplete, removeOnFail } },
      );
      await this.client.multi().hset(this.keys.schedules, name, type).hset(this.keys.scheduleSpecs, name, spec).exec();
      // A schedule moved to another type: its old queue must stop firing it.
      if (previous !== null && previous !== type) await this.queue(previous).removeJobScheduler(name);
    });
  }

  /** Runs `fn` while holding the schedule's lock (a key with expiry, so a dead node frees it). */
  private async withScheduleLock(name: string, fn: () => Promise<void>): Promise<void> {
    const key = this.keys.scheduleLock(name);
    const token = `${this.nodeId}:${process.pid}:${Math.random().toString(36).slice(2)}`;
    const deadline = Date.now() + 30_000;
    while ((await this.client.set(key, token, 'PX', 10_000, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new Error(`schedule ${name} stayed locked by another node for 30 s`);
      await sleep(50);
    }
    try {
      await fn();
    } finally {
      await this.client.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, key, token);
    }
  }

  async unschedule(name: string): Promise<boolean> {
    const type = await this.client.hget(this.keys.schedules, name);
    if (type === null) return false;
    await this.withScheduleLock(name, async () => {
      await this.client.multi().hdel(this.keys.schedules, name).hdel(this.keys.scheduleSpecs, name).exec();
      await this.queue(type).removeJobScheduler(name);
    });
    return true;
  }

  async cancel(id: string): Promise<boolean> {
    const parsed = parseJobId(id);
    if (!parsed) return false;
    const job = await this.queue(parsed.type).getJob(parsed.bullId);
    if (!job) return false;
    let state: string = await job.getState();
    if (QUEUED_STATES.has(state)) {
      try {
        await job.remove();
        await this.recordCancelled(id, job);
        return true;
      } catch {
        // A worker took it meanwhile (it is locked now): cancel it as a running job.
        state = await job.getState();
      }
    }
    if (state !== 'active') return false;
    const ttlMs = Math.max(60_000, this.options.settings.leaseSeconds * 4000);
    await this.client.set(this.keys.cancelFlag(id), '1', 'PX', ttlMs);
    await this.client.publish(this.keys.cancelChannel, id);
    this.abortLocal(id, 'cancel');
    return true;
  }

  async cancelByKey(key: string): Promise<boolean> {
    const id = await this.client.hget(this.keys.keys, key);
    return id === null ? false : this.cancel(id);
  }

  /** BullMQ deletes a removed job: keep a record so `get` answers `cancelled`, bounded like the rest. */
  private async recordCancelled(id: string, job: Job): Promise<void> {
    const type = parseJobId(id)?.type as string;
    const now = Date.now();
    const record = { type, payload: job.data as unknown, attempts: job.attemptsStarted ?? 0, maxAttempts: job.opts.attempts ?? 1, createdAt: job.timestamp, finishedAt: now };
    const { keep, maxAgeDays } = this.options.settings.history;
    const index = this.keys.cancelledIndex(type);
    const data = this.keys.cancelledData(type);
    await this.client.multi().zadd(index, String(now), id).hset(data, id, JSON.stringify(record)).exec();
    const stale = [
      ...(await this.client.zrangebyscore(index, '-inf', String(now - maxAgeDays * 86_400_000))),
      ...(await this.client.zrange(index, '0', String(-(keep + 1)))),
    ];
    if (stale.length > 0) await this.client.multi().zrem(index, ...stale).hdel(data, ...stale).exec();
    if (job.deduplicationId) await this.forgetKey(job.deduplicationId, id);
  }

  private async forgetKey(key: string, id: string): Promise<void> {
    // Compare-and-delete: a newer job may hold the key by now.
    await this.client.eval("if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0", 1, this.keys.keys, key, id);
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const parsed = parseJobId(id);
    if (!parsed) return undefined;
    const job = await this.queue(parsed.type).getJob(parsed.bullId);
    if (!job) {
      const raw = await this.client.hget(this.keys.cancelledData(parsed.type), id);
      if (raw === null) return undefined;
      const r = JSON.parse(raw) as { type: string; payload: unknown; attempts: number; maxAttempts: number; createdAt: number; finishedAt: number };
      return { id, type: r.type, payload: r.payload, status: 'cancelled', attempts: r.attempts, maxAttempts: r.maxAttempts, createdAt: new Date(r.createdAt), finishedAt: new Date(r.finishedAt) };
    }
    const state = await job.getState();
    let status: JobStatus;
    if (state === 'active') status = 'running';
    else if (state === 'completed') status = 'succeeded';
    else if (state === 'failed') status = job.failedReason === CANCELLED ? 'cancelled' : 'failed';
    else status = 'queued';
    return {
      id,
      type: parsed.type,
      payload: job.data as unknown,
      status,
      attempts: job.attemptsStarted ?? job.attemptsMade,
      maxAttempts: job.opts.attempts ?? 1,
      error: job.failedReason && job.failedReason !== CANCELLED ? job.failedReason : undefined,
      createdAt: new Date(job.timestamp),
      finishedAt: job.finishedOn ? new Date(job.finishedOn) : undefined,
    };
  }

  async queueDepth(): Promise<Readonly<Record<string, number>>> {
    const out: Record<string, number> = {};
    for (const def of this.types.all()) {
      const counts = await this.queue(def.type).getJobCounts('wait', 'delayed', 'prioritized');
      out[def.type] = Object.values(counts).reduce((a, b) => a + b, 0);
    }
    return out;
  }

  async log(id: string): Promise<JobLogLine[]> {
    const parsed = parseJobId(id);
    if (!parsed) return [];
    const { logs } = await this.queue(parsed.type).getJobLogs(parsed.bullId, 0, -1, true);
    return logs.map((line) => {
      const space = line.indexOf(' ');
      return { at: new Date(Number(line.slice(0, space))), message: line.slice(space + 1) };
    });
  }

  async start(): Promise<void> {
    if (this.state !== 'created') return;
    this.state = 'started';
    // Fails the boot (after a few retries) when Redis is unreachable, instead of hanging in subscribe.
    await this.client.ping();
    this.workerClient = this.client.duplicate({ maxRetriesPerRequest: null });
    this.workerClient.on('error', () => undefined); // reported by the main client
    this.subscriber = this.client.duplicate({ maxRetriesPerRequest: null });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (_channel: string, id: string) => this.abortLocal(id, 'cancel'));
    await this.subscriber.subscribe(this.keys.cancelChannel);
    for (const def of this.types.all()) this.startWorker(def);
    this.logger.info({ backend: 'redis', node: this.nodeId, types: this.types.all().map((t) => t.type) }, 'jobs started');
  }

  private startWorker(def: JobType): void {
    const leaseMs = this.options.settings.leaseSeconds * 1000;
    // Three parameters: BullMQ passes an abort signal only to processors that take one.
    const processor = (job: Job, token: string | undefined, signal?: AbortSignal) => this.process(def, job, token, signal);
    const worker = new Worker(def.type, processor, {
      connection: this.workerClient as Redis,
      prefix: this.options.settings.redis.prefix,
      name: this.nodeId,
      concurrency: def.concurrency,
      lockDuration: leaseMs,
      stalledInterval: leaseMs,
      // A job whose worker died goes back to wait; one that keeps killing workers fails in the end.
      maxStalledCount: def.maxAttempts,
      settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade, def.backoffMs, def.maxBackoffMs) },
      ...this.history,
    });
    worker.on('error', (err: Error) => this.logger.warn({ err: { message: err.message }, jobType: def.type }, 'jobs worker error'));
    const finished = (job: Job | undefined) => {
      if (job?.deduplicationId && job.finishedOn) void this.forgetKey(job.deduplicationId, jobId(def.type, String(job.id))).catch(() => undefined);
    };
    worker.on('completed', finished);
    worker.on('failed', finished);
    this.workers.set(def.type, worker);
  }

  private async process(def: JobType, job: Job, token: string | undefined, bullSignal?: AbortSignal): Promise<void> {
    const id = jobId(def.type, String(job.id));
    const controller = new AbortController();
    bullSignal?.addEventListener('abort', () => controller.abort(bullSignal.reason), { once: true });
    const entry: Active = { controller, reason: undefined, job, token };
    this.active.set(id, entry);
    const logger = this.logger.child({ jobId: id, jobType: def.type });
    const kept = jobLogCapture((message) => job.log(`${Date.now()} ${message}`).then(() => undefined), this.options.settings.history.maxLogLines ?? DEFAULT_MAX_LOG_LINES, this.logger);
    // Every line written inside the attempt, its outcome's included, carries the job id and is kept in the job's log.
    return withLogContext({ jobId: id, jobType: def.type }, () => this.attempt(def, job, token, id, entry, logger), (line) => kept.keep(line)).finally(() => kept.flush());
  }

  private async attempt(def: JobType, job: Job, token: string | undefined, id: string, entry: Active, logger: Logger): Promise<void> {
    let failure: unknown;
    let ok = false;
    try {
      // A cancel published before this node started the job would be missed without the flag.
      if ((await this.client.exists(this.keys.cancelFlag(id))) === 1) this.abortLocal(id, 'cancel');
      if (entry.reason === undefined) {
        // Plugins' own loggers inside the handler carry the job id too (the context set in process()).
        await def.handler({
          id,
          type: def.type,
          payload: job.data as unknown,
          attempt: job.attemptsStarted ?? job.attemptsMade + 1,
          maxAttempts: job.opts.attempts ?? 1,
          signal: entry.controller.signal,
          logger,
          log: async (message: string) => {
            await job.log(`${Date.now()} ${clip(String(message), MAX_LOG_MESSAGE)}`);
          },
        });
        ok = true;
      }
    } catch (err) {
      failure = err;
    } finally {
      this.active.delete(id);
    }
    if (entry.reason === 'cancel') {
      logger.info('job cancelled');
      throw new UnrecoverableError(CANCELLED);
    }
    if (ok) return;
    if (entry.reason === 'shutdown') {
      // Back to wait at once; BullMQ counts attempts on failures only, so none is used up.
      await job.moveToWait(token);
      logger.info('job stopped by shutdown; queued again');
      throw new WaitingError();
    }
    if (isPermanentJobError(failure)) throw new UnrecoverableError(errorText(failure));
    logger.info({ err: failure, attempt: job.attemptsMade + 1 }, 'job failed');
    throw failure instanceof Error ? failure : new Error(errorText(failure));
  }

  private abortLocal(id: string, reason: 'cancel' | 'shutdown'): void {
    const a = this.active.get(id);
    if (!a || a.reason !== undefined) return;
    a.reason = reason;
    a.controller.abort(new Error(reason === 'cancel' ? 'job cancelled' : 'job stopped: the node is shutting down'));
  }

  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    const workers = [...this.workers.values()];
    // No new jobs; running ones see their signal and end.
    await Promise.all(workers.map((w) => w.pause(true).catch(() => undefined)));
    for (const id of this.active.keys()) this.abortLocal(id, 'shutdown');
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.options.settings.stopTimeoutMs)));
    const closed = Promise.all(workers.map((w) => w.close())).then(() => 'closed' as const);
    if ((await Promise.race([closed, bound])) === 'timeout') {
      // Handlers that did not stop: give their jobs back now instead of waiting for the stall check.
      for (const [id, a] of this.active) {
        await a.job.moveToWait(a.token).catch((err: unknown) => this.logger.warn({ err, jobId: id }, 'could not release job at shutdown'));
        this.logger.warn({ jobId: id }, 'job handler did not stop in time; job queued again');
      }
      await Promise.all(workers.map((w) => w.close(true).catch(() => undefined)));
    }
    clearTimeout(timer);
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    for (const c of [this.subscriber, this.workerClient, this.client]) {
      if (!c || c.status === 'end') continue;
      // A client that never connected (lazyConnect) has nothing to say goodbye to.
      if (c.status === 'wait') c.disconnect();
      else await c.quit().catch(() => c.disconnect());
    }
    this.state = 'stopped';
  }
}
