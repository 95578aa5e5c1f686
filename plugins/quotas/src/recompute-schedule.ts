import { randomUUID } from 'node:crypto';
import type { JobService } from '@wharf/sdk';
import type { QuotaService } from './quota-service.js';
import type { QuotaStore } from './store.js';

/** The job that recomputes every project's usage, and the cron schedule that enqueues it. */
export const RECOMPUTE_JOB = 'quotas.recompute';
export const RECOMPUTE_SCHEDULE = 'quotas.recompute';
/** `quotas_meta` row: when the last full recompute started (`<epoch ms>:<nonce>`), claimed by compare-and-set. */
const STARTED = 'recompute_started_at';

/**
 * How often the schedule ticks for a recompute every `intervalSeconds`: a cron fires once per
 * tick across all nodes, and a tick only recomputes when the last recompute started at least
 * `intervalSeconds` ago, so the interval need not be a cron step. Ticks are at most every 10 s
 * (the smallest interval), every minute up to 10 minutes, then every 10 minutes.
 */
export function recomputeCron(intervalSeconds: number): string {
  if (intervalSeconds < 60) {
    const step = [30, 20, 15, 12, 10].find((d) => d <= intervalSeconds) ?? 10;
    return `*/${step} * * * * *`;
  }
  return intervalSeconds < 600 ? '0 * * * * *' : '0 */10 * * * *';
}

/**
 * Defines the recompute job and schedules it: one node at a time recomputes (the cron fires
 * once per tick across nodes, and the claim below keeps a slow recompute from overlapping the
 * next tick's on another node), instead of every node on its own timer.
 */
export async function scheduleRecompute(deps: { jobs: JobService; store: QuotaStore; service: QuotaService; intervalSeconds: number }): Promise<void> {
  const { jobs, store, service, intervalSeconds } = deps;
  jobs.define(
    RECOMPUTE_JOB,
    async (job) => {
      if (!(await claimRecompute(store, intervalSeconds * 1000))) return;
      const projects = await service.reconcileAll();
      await job.log(`recomputed the usage of ${projects} projects`);
    },
    { concurrency: 1, maxAttempts: 1 },
  );
  // The first recompute comes an interval after the first boot (the backfill counted the
  // content then), not at the first tick.
  await store.compareAndSetMeta(STARTED, undefined, `${Date.now()}:first-boot`);
  await jobs.schedule(RECOMPUTE_SCHEDULE, recomputeCron(intervalSeconds), RECOMPUTE_JOB, {});
}

/**
 * Claims the next full recompute: true when the last one started at least `intervalMs` ago
 * (or never), after moving the mark to now with a compare-and-set, so of two nodes asking at
 * once only one gets it.
 */
export async function claimRecompute(store: QuotaStore, intervalMs: number, now = Date.now()): Promise<boolean> {
  const last = await store.getMeta(STARTED);
  if (last !== undefined && now - Number.parseInt(last, 10) < intervalMs) return false;
  // `<ms>:<nonce>`: two claimants at the same millisecond still write different values.
  return store.compareAndSetMeta(STARTED, last, `${now}:${randomUUID()}`);
}
