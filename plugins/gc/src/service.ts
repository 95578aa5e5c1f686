import { createServiceRef, type JobService, type Logger, type UploadSessionService } from '@wharf/sdk';
import type { Collector } from './collector.js';
import { purgeUploads } from './collector.js';
import type { GcConfig } from './config.js';
import type { GcStore, RunOptions, RunRecord, RunTrigger } from './store.js';

/**
 * The collection service: runs are rows in the history first, then jobs of the jobs service
 * (`gc.run`), whether the API, the schedule or the CLI asked, so whichever node is free runs
 * each once. The schedule set through the API is stored and overrides the config's.
 */

export const RUN_JOB = 'gc.run';
export const RUN_SCHEDULE = 'gc';
export const UPLOAD_PURGE_JOB = 'gc.purge-uploads';
export const UPLOAD_PURGE_SCHEDULE = 'gc-upload-purge';
const SCHEDULE_SETTING = 'schedule';
/** How long a run that finds the lock taken waits before its job tries again. */
const LOCKED_RETRY_MS = 5_000;

export interface GcService {
  readonly config: GcConfig;
  readonly store: GcStore;
  readonly collector: Collector;
  /** Records a run and queues it; resolves with its record. */
  request(input: { trigger: RunTrigger; requestedBy: string | null; options?: Partial<RunOptions> }): Promise<RunRecord>;
  /** Asks a run to stop (its job's signal aborts too); `false` when it is not queued or running. */
  stop(id: number): Promise<boolean>;
  /** The cron in force and where it comes from. */
  schedule(): Promise<{ cron: string | null; source: 'config' | 'api'; updatedAt: Date | null; updatedBy: string | null }>;
  setSchedule(cron: string | null, by: string | null): Promise<void>;
  /** Applies the schedule in force to the jobs service. */
  applySchedules(): Promise<void>;
}

export const gcServiceRef = createServiceRef<GcService>({ id: 'gc.service' });

interface RunPayload {
  readonly runId?: number;
}

export function optionsOf(config: GcConfig, given: Partial<RunOptions> = {}): RunOptions {
  return {
    dryRun: given.dryRun ?? false,
    deleteUntagged: given.deleteUntagged ?? config.deleteUntagged,
    untaggedOlderThanDays: given.untaggedOlderThanDays ?? config.untaggedOlderThanDays,
    workers: given.workers ?? config.workers,
    graceWindowMinutes: given.graceWindowMinutes ?? config.graceWindowMinutes,
  };
}

export function createGcService(deps: { config: GcConfig; store: GcStore; collector: Collector; jobs: JobService; uploads: UploadSessionService; logger: Logger }): GcService {
  const { config, store, collector, jobs, logger } = deps;

  jobs.define<RunPayload>(
    RUN_JOB,
    async (job) => {
      const id = job.payload.runId ?? (await store.create({ trigger: 'schedule', requestedBy: null, options: optionsOf(config) })).id;
      const ran = await collector.run(id, job.signal);
      if (!ran) {
        // Another collection holds the lock: come back later (the job's backoff).
        await job.log(`run ${id}: another collection holds the lock; retrying`);
        throw new Error(`garbage collection ${id} waits for another collection to finish`);
      }
      await store.trim(config.historyKeep);
    },
    { concurrency: 1, maxAttempts: 50, backoffMs: LOCKED_RETRY_MS, maxBackoffMs: 60_000 },
  );

  jobs.define(
    UPLOAD_PURGE_JOB,
    async (job) => {
      const n = await purgeUploads(deps.uploads, new Date(Date.now() - config.uploads.maxAgeHours * 3_600_000), false, async () => {
        if (job.signal.aborted) throw new Error('stopped');
      });
      await job.log(`cancelled ${n} uploads idle longer than ${config.uploads.maxAgeHours} h`);
      if (n > 0) logger.info({ cancelled: n }, 'idle uploads purged');
    },
    { concurrency: 1, maxAttempts: 3 },
  );

  const service: GcService = {
    config,
    store,
    collector,
    async request(input) {
      const record = await store.create({ trigger: input.trigger, requestedBy: input.requestedBy, options: optionsOf(config, input.options) });
      const jobId = await jobs.enqueue<RunPayload>(RUN_JOB, { runId: record.id }, { key: `gc-run-${record.id}` });
      await store.setJob(record.id, jobId);
      return (await store.get(record.id))!;
    },
    async stop(id) {
      const record = await store.get(id);
      if (!record || !(await store.requestStop(id))) return false;
      if (record.status === 'queued') await store.finish(id, 'stopped', {});
      if (record.jobId) await jobs.cancel(record.jobId).catch(() => false);
      return true;
    },
    async schedule() {
      const stored = await store.getSetting(SCHEDULE_SETTING);
      if (!stored) return { cron: config.schedule, source: 'config', updatedAt: null, updatedBy: null };
      return { cron: stored.value, source: 'api', updatedAt: stored.updatedAt, updatedBy: stored.updatedBy };
    },
    async setSchedule(cron, by) {
      // Validated by the jobs service before it is stored: a bad cron changes nothing.
      if (cron === null) await jobs.unschedule(RUN_SCHEDULE);
      else await jobs.schedule<RunPayload>(RUN_SCHEDULE, cron, RUN_JOB, {});
      await store.setSetting(SCHEDULE_SETTING, cron, by);
    },
    async applySchedules() {
      const { cron } = await service.schedule();
      if (cron === null) await jobs.unschedule(RUN_SCHEDULE);
      else await jobs.schedule<RunPayload>(RUN_SCHEDULE, cron, RUN_JOB, {});
      if (config.uploads.schedule === null) await jobs.unschedule(UPLOAD_PURGE_SCHEDULE);
      else await jobs.schedule(UPLOAD_PURGE_SCHEDULE, config.uploads.schedule, UPLOAD_PURGE_JOB, {});
    },
  };
  return service;
}
