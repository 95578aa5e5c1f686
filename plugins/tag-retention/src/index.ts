import { coreServices, definePlugin } from '@wharf/sdk';
import { registerRetentionApi } from './api.js';
import { retentionCommands } from './cli.js';
import { retentionConfigSchema } from './config.js';
import { retentionMigrations } from './migrations.js';
import { createRetention, retentionServiceRef } from './retention.js';
import { VERSION } from './version.js';

/**
 * `extensions: { tag-retention: {} }` (loaded by default): Harbor's tag retention on Wharf's
 * SDK. One policy per project (rules OR-ed, each a template with repository and tag selectors),
 * run on a cron schedule through the jobs service or on demand, as a dry run or for real;
 * executions with one task per repository and a log line per artifact; deletes through
 * `coreServices.content`, so policy gates (immutability) and the registry's events apply; a
 * durable `retention.execution.finished` event per execution. API under
 * `/api/v1/projects/{p}/retention`, CLI `wharf retention`.
 * @see docs/architecture/24-tag-retention.md
 */
export const tagRetentionPlugin = definePlugin({
  id: 'tag-retention',
  kind: 'extension',
  version: VERSION,
  kernel: '^0.1.0',
  description: 'Tag retention: per-project policies, schedules, dry runs and executions',
  configSchema: retentionConfigSchema,
  cli: [retentionCommands],
  register(ctx) {
    const settings = ctx.config;
    ctx.migrations(retentionMigrations);
    ctx.provide(retentionServiceRef, {
      deps: { database: coreServices.database, events: coreServices.events, jobs: coreServices.jobs, artifacts: coreServices.artifacts, content: coreServices.content },
      factory: (deps) => createRetention({ ...deps, logger: ctx.logger, keepExecutions: settings.keepExecutions, maxRules: settings.maxRules }),
    });
    ctx.registerInit({
      deps: { retention: retentionServiceRef },
      async init({ retention }) {
        // Job types and the project-deleted consumer before the workers start (after ready).
        retention.install();
        // Upserts: every node may do it at boot.
        await retention.runner.syncAllSchedules();
        registerRetentionApi(ctx.api, () => retention);
      },
    });
  },
});

export default tagRetentionPlugin;
export { retentionConfigSchema, type RetentionConfig } from './config.js';
export { retentionMigrations, TABLES as RETENTION_TABLES } from './migrations.js';
export { retentionServiceRef, createRetention, type Retention } from './retention.js';
export { RetentionRunner, ExecutionActiveError, RETENTION_PRINCIPAL, JOB_RUN, JOB_SCHEDULED } from './runner.js';
export { RetentionStore } from './store.js';
export { evaluateRepository, deletionOrder, type CompiledRule, type Verdict } from './evaluate.js';
export { retentionCommands } from './cli.js';
export type * from './model.js';
export { VERSION as TAG_RETENTION_PLUGIN_VERSION } from './version.js';
