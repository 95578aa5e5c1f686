import { createServiceRef, type DatabaseService, type JobService, type Logger } from '@wharf/sdk';
import type { AuditConfig } from './config.js';
import { purgeEntries, PurgeHistory, rulesOf, type PurgeRecord, type RetentionRule } from './purge.js';
import { AuditStore } from './store.js';

/**
 * The audit log's service: its store, the purge history, and the purge itself, which always
 * runs as a job of the jobs service (`audit.purge`), whether the cron schedule or the API asked
 * for it: whichever node is free runs it, once.
 */

export const PURGE_JOB = 'audit.purge';
export const PURGE_SCHEDULE = 'audit-log-purge';

export interface AuditService {
  readonly config: AuditConfig;
  readonly store: AuditStore;
  readonly history: PurgeHistory;
  readonly rules: readonly RetentionRule[];
  /** Records a purge in the history and queues it; resolves with its record. */
  requestPurge(input: { dryRun: boolean; requestedBy: string | null }): Promise<PurgeRecord>;
}

/** `logging-audit.service`: the audit log's store and purge. */
export const auditServiceRef = createServiceRef<AuditService>({ id: 'logging-audit.service' });

interface PurgePayload {
  /** Set when the API asked (the record exists); a scheduled tick makes its own. */
  readonly purgeId?: number;
}

export function createAuditService(deps: { config: AuditConfig; database: DatabaseService; jobs: JobService; logger: Logger; now?: () => number }): AuditService {
  const { config, database, jobs } = deps;
  const now = deps.now ?? Date.now;
  const knex = () => database.knex;
  const store = new AuditStore(knex);
  const history = new PurgeHistory(knex, database.dialect);
  const rules = rulesOf(config.retention as Record<string, string>);

  jobs.define<PurgePayload>(
    PURGE_JOB,
    async (job) => {
      const id = job.payload.purgeId ?? (await history.create({ dryRun: false, trigger: 'schedule', requestedBy: null, now: now() }));
      const record = await history.get(id);
      // Gone from the history, or already finished (the job delivered again): nothing to do.
      if (!record || !(await history.start(id, now()))) return;
      try {
        const result = await purgeEntries(database.knex, rules, { dryRun: record.dryRun, batchSize: config.purge.batchSize, now: now(), signal: job.signal });
        await history.finish(id, { ok: true, ...result }, now());
        const what = Object.entries(result.rules).map(([k, r]) => `${k} (${r.retention}): ${r.count}`).join(', ');
        await job.log(`${record.dryRun ? 'would delete' : 'deleted'} ${result.total} audit entries: ${what}`);
        deps.logger.info({ purge: id, dryRun: record.dryRun, deleted: result.total }, record.dryRun ? 'audit log purge dry run' : 'audit log purged');
      } catch (err) {
        // Stopped with the node: the job comes back and carries on where the rows left off.
        if (job.signal.aborted) throw err;
        await history.finish(id, { ok: false, error: err instanceof Error ? err.message : String(err) }, now());
        deps.logger.error({ err, purge: id }, 'audit log purge failed');
      }
    },
    { concurrency: 1, maxAttempts: 3 },
  );

  return {
    config,
    store,
    history,
    rules,
    async requestPurge(input) {
      const id = await history.create({ ...input, trigger: 'api', now: now() });
      await jobs.enqueue<PurgePayload>(PURGE_JOB, { purgeId: id });
      return (await history.get(id))!;
    },
  };
}
