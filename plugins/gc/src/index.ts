import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { coreServices, definePlugin } from '@wharf/sdk';
import { registerGcApi } from './api.js';
import { gcCommands } from './cli.js';
import { Collector } from './collector.js';
import { gcConfigSchema } from './config.js';
import { gcMigrations } from './migrations.js';
import { createGcService, gcServiceRef } from './service.js';
import { GcStore } from './store.js';
import { VERSION } from './version.js';

/**
 * `extensions: { gc: {} }` (loaded by default): online garbage collection and the upload purge.
 * The plugin decides what and when (candidates from the database, schedules, history, the lock
 * across nodes); the kernel's `coreServices.blobs.deleteUnreferenced` deletes under the
 * protocol that keeps concurrent pushes, mounts and manifest PUTs safe (ADR 0029).
 */
export const gcPlugin = definePlugin({
  id: 'gc',
  kind: 'extension',
  version: VERSION,
  kernel: '^0.1.0',
  description: 'Online garbage collection and upload purge: race-free, scheduled or on demand, with history',
  configSchema: gcConfigSchema,
  cli: gcCommands,
  register(ctx) {
    const config = ctx.config;
    ctx.migrations(gcMigrations);
    ctx.provide(gcServiceRef, {
      deps: { database: coreServices.database, jobs: coreServices.jobs, blobs: coreServices.blobs, uploads: coreServices.uploads, artifacts: coreServices.artifacts, content: coreServices.content },
      factory: ({ database, jobs, blobs, uploads, artifacts, content }) => {
        const store = new GcStore(database);
        const node = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`.slice(0, 64);
        const collector = new Collector({
          store,
          blobs,
          uploads,
          artifacts,
          content,
          logger: ctx.logger,
          node,
          lockMs: config.lockSeconds * 1000,
          uploadMaxAgeMs: config.uploads.maxAgeHours * 3_600_000,
        });
        return createGcService({ config, store, collector, jobs, uploads, logger: ctx.logger });
      },
    });
    ctx.registerInit({
      deps: { gc: gcServiceRef },
      init({ gc }) {
        registerGcApi(ctx.api, gc);
        ctx.hooks.lifecycle.ready.tapPromise(ctx.id, () => gc.applySchedules());
      },
    });
  },
});

export default gcPlugin;
export { gcConfigSchema, type GcConfig } from './config.js';
export { gcServiceRef, RUN_JOB, RUN_SCHEDULE, UPLOAD_PURGE_JOB, UPLOAD_PURGE_SCHEDULE, type GcService } from './service.js';
export { Collector, purgeUploads, type CollectorDeps } from './collector.js';
export { GcStore, type RunRecord, type RunOptions, type RunCounts, type RunStatus } from './store.js';
export { gcMigrations, TABLES as GC_TABLES } from './migrations.js';
export { gcCommands } from './cli.js';
export { VERSION as GC_PLUGIN_VERSION } from './version.js';
