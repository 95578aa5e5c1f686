import { coreServices, definePlugin } from '@wharf/sdk';
import { registerAuditApi } from './api/operations.js';
import { auditConfigSchema } from './config.js';
import { auditMigrations } from './migrations.js';
import { auditConsumer } from './recorder.js';
import { auditServiceRef, createAuditService, PURGE_JOB, PURGE_SCHEDULE } from './service.js';
import { VERSION } from './version.js';

/**
 * `logging: { audit: {} }` (on by default): the audit log. A durable consumer of the registry,
 * login and management events writes one entry per operation (who, from where, what, on which
 * resource, in which project, with which result and request id); `/api/v1/audit-logs` and
 * `/api/v1/projects/{name}/audit-logs` read and export them; a scheduled job of the jobs
 * service deletes entries past their retention, in short batches. Entries can also be forwarded
 * to the logs (`forward`), or only forwarded (`store: false`).
 */
export const auditPlugin = definePlugin({
  id: 'audit',
  kind: 'logging',
  version: VERSION,
  kernel: '^0.1.0',
  description: 'The audit log: who did what, from the durable events; query, export, retention, forwarding',
  configSchema: auditConfigSchema,
  register(ctx) {
    const config = ctx.config;
    if (!config.store && !config.forward) {
      ctx.logger.warn('logging.audit: store and forward are both off, so nothing is recorded; remove the section to say so, or turn one on');
    }
    ctx.migrations(auditMigrations);
    ctx.provide(auditServiceRef, {
      deps: { database: coreServices.database, jobs: coreServices.jobs },
      factory: ({ database, jobs }) => createAuditService({ config, database, jobs, logger: ctx.logger }),
    });
    // Forwarded entries get a level of their own: `log.level: warn` must not silence the audit trail.
    const forward = config.forward ? ctx.logger.child({ channel: 'audit' }, { level: 'info' }) : undefined;
    // Subscribed in register (every node must know the same set); the store comes as a dep.
    ctx.events.subscribe(auditConsumer({ config, forward }));
    ctx.registerInit({
      deps: { audit: auditServiceRef, jobs: coreServices.jobs },
      init({ audit, jobs }) {
        registerAuditApi(ctx.api, audit);
        ctx.hooks.lifecycle.ready.tapPromise(ctx.id, async () => {
          if (config.purge.schedule === null) await jobs.unschedule(PURGE_SCHEDULE);
          else await jobs.schedule(PURGE_SCHEDULE, config.purge.schedule, PURGE_JOB, {});
        });
      },
    });
  },
});

export default auditPlugin;
export { auditConfigSchema, durationMs, type AuditConfig } from './config.js';
export { auditServiceRef, PURGE_JOB, PURGE_SCHEDULE, type AuditService } from './service.js';
export { entriesOf, projectOfRepository, OPERATIONS, type AuditEntry, type AuditOperation, type AuditResult } from './entries.js';
export { AuditStore, type AuditFilter, type AuditPage, type Cursor, type StoredEntry } from './store.js';
export { purgeEntries, rulesOf, PurgeHistory, PURGE_HISTORY_KEEP, type PurgeRecord, type RetentionRule } from './purge.js';
export { auditConsumer, auditedTypes, sampled, recordedEntries, CONSUMER_NAME } from './recorder.js';
export { auditMigrations, TABLES as AUDIT_TABLES } from './migrations.js';
export { viewOf, AuditEntrySchema, CSV_COLUMNS, type AuditEntryView } from './view.js';
export { VERSION as AUDIT_PLUGIN_VERSION } from './version.js';
