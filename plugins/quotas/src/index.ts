import { coreServices, definePlugin, projectServices, registryEvents } from '@wharf/sdk';
import { registerQuotasApi } from './api.js';
import { quotasCommands } from './cli.js';
import { quotasConfigSchema } from './config.js';
import { quotasMigrations } from './migrations.js';
import { QuotaService } from './quota-service.js';
import { scheduleRecompute } from './recompute-schedule.js';
import { quotasServiceRef } from './services.js';
import { parseSize, projectOf } from './sizes.js';
import { QuotaStore } from './store.js';
import { VERSION } from './version.js';

/**
 * `extensions: { quotas: {} }` (loaded by default): per-project storage and artifact count
 * quotas. The `registry.beforeBlobCommit` and `registry.beforeManifestPut` gates charge the
 * project in one locked transaction and refuse with `DENIED` past the limit; a durable consumer
 * recomputes a project's usage from its content after deletes, and a scheduled job recomputes
 * all projects periodically, on one node at a time. `quota.warning` / `quota.exceeded` are durable events (webhooks:
 * QUOTA_WARNING, QUOTA_EXCEED).
 */
export const quotasPlugin = definePlugin({
  id: 'quotas',
  kind: 'extension',
  version: VERSION,
  kernel: '^0.1.0',
  description: 'Project quotas: storage and artifact count, enforced on push, with warning and exceeded events',
  configSchema: quotasConfigSchema,
  cli: quotasCommands,
  register(ctx) {
    const config = ctx.config;
    const defaults = { storage: parseSize(config.defaults.storage), count: config.defaults.count, repositoryStorage: parseSize(config.defaults.repositoryStorage) };
    ctx.migrations(quotasMigrations);

    ctx.provide(quotasServiceRef, {
      deps: { database: coreServices.database, events: coreServices.events, artifacts: coreServices.artifacts, blobs: coreServices.blobs },
      factory: ({ database, events, artifacts, blobs }) => {
        const store = new QuotaStore(database, defaults, config.warningPercent);
        const service = new QuotaService({ store, database, events, artifacts, blobs, logger: ctx.logger, settleMs: config.reconcile.settleSeconds * 1000, warningPercent: config.warningPercent });
        return { store, service };
      },
    });

    ctx.events.subscribe({
      name: 'quotas-usage',
      types: [registryEvents.manifestDeleted, registryEvents.repositoryDeleted, 'management.project.created', 'management.project.deleted'],
      deps: { quotas: quotasServiceRef },
      async handle({ event }, { quotas: { store, service } }) {
        const data = event.data as { repository?: string; resource?: string; id?: string };
        if (event.type === 'management.project.created' && data.resource === 'project' && data.id) await store.ensure(data.id);
        else if (event.type === 'management.project.deleted' && data.resource === 'project' && data.id) await store.remove(data.id);
        else {
          // A durable mark, recomputed by whichever node drains it: the deletes of one
          // repository (one event per artifact) cost one recompute, not one each.
          const project = data.repository ? projectOf(data.repository) : undefined;
          if (project) {
            await store.markDirty(project);
            service.wake();
          }
        }
      },
    });

    ctx.registerInit({
      deps: { quotas: quotasServiceRef, jobs: coreServices.jobs },
      optionalDeps: { projects: projectServices.directory },
      async init({ quotas: { store, service }, jobs, projects }) {
        registerQuotasApi(ctx.api, { store, service, projects });

        ctx.hooks.registry.beforeBlobCommit.tapPromise(ctx.id, (context) => service.beforeBlobCommit(context));
        ctx.hooks.registry.blobCommitFailed.tapPromise(ctx.id, (context) => service.blobCommitFailed(context));
        ctx.hooks.registry.beforeManifestPut.tapPromise(ctx.id, (context) => service.beforeManifestPut(context));

        let poll: NodeJS.Timeout | undefined;
        ctx.hooks.lifecycle.ready.tapPromise(ctx.id, async () => {
          service.startBackfill();
          // The periodic recompute of every project: a job, one node at a time.
          await scheduleRecompute({ jobs, store, service, intervalSeconds: config.reconcile.intervalSeconds });
          // Marks other nodes made.
          poll = setInterval(() => service.wake(), config.reconcile.pollMs);
          poll.unref();
        });
        ctx.hooks.lifecycle.close.tapPromise(ctx.id, async () => {
          if (poll) clearInterval(poll);
          await service.close();
        });
      },
    });
  },
});

export default quotasPlugin;
export { quotasConfigSchema, type QuotasConfig } from './config.js';
export { quotasCommands } from './cli.js';
export { quotaEvents, type QuotaEventData } from './events.js';
export { quotasServiceRef, type QuotasService } from './services.js';
export { formatSize, parseSize } from './sizes.js';
export { RECOMPUTE_JOB, RECOMPUTE_SCHEDULE } from './recompute-schedule.js';
export { VERSION as QUOTAS_PLUGIN_VERSION } from './version.js';
