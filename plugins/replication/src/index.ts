import { coreServices, definePlugin, projectServices } from '@wharf/sdk';
import { registerReplicationOperations } from './api.js';
import { replicationCommands } from './cli.js';
import { replicationConfigSchema } from './config.js';
import { replicationMigrations } from './migrations.js';
import { createReplication } from './replication.js';
import { replicationServiceRef } from './services.js';
import { VERSION } from './version.js';

/**
 * `extensions: { replication: {} }` (loaded by default): Harbor's replication on Wharf's SDK.
 * Registry endpoints (credentials sealed with `coreServices.secrets`), push and pull policies
 * (manual, scheduled, on push and delete), executions of one durable job per artifact, and
 * their API (`/api/v1/registries`, `/api/v1/replication/...`) and CLI (`wharf replication`).
 * Remote registries are reached through the `replication.target` adapters
 * (`coreServices.replicationTargets`); this registry through the content services.
 * @see docs/architecture/12-replication.md
 */
export const replicationPlugin = definePlugin({
  id: 'replication',
  kind: 'extension',
  version: VERSION,
  kernel: '^0.1.0',
  description: 'Replication engine: registry endpoints, policies, executions and tasks',
  configSchema: replicationConfigSchema,
  cli: [replicationCommands],
  register(ctx) {
    const settings = ctx.config;
    ctx.migrations(replicationMigrations);
    ctx.provide(replicationServiceRef, {
      deps: {
        database: coreServices.database, jobs: coreServices.jobs, events: coreServices.events, secrets: coreServices.secrets,
        targets: coreServices.replicationTargets, artifacts: coreServices.artifacts, blobs: coreServices.blobs, content: coreServices.content,
      },
      factory: (deps) => createReplication({ ...deps, logger: ctx.logger, settings }),
    });
    ctx.registerInit({
      deps: { replication: replicationServiceRef },
      // With an RBAC plugin with projects (rbac-projects), pulls create their missing destination projects.
      optionalDeps: { projects: projectServices.provisioning },
      async init({ replication, projects }) {
        replication.engine.useProjects(projects);
        // Job types and the trigger consumer before the workers start (they start after ready).
        replication.engine.install();
        // Upserts: every node may do it at boot.
        await replication.engine.syncAllSchedules();
        registerReplicationOperations(ctx.api, () => replication);
      },
    });
  },
});

export default replicationPlugin;
export { replicationConfigSchema, type ReplicationConfig } from './config.js';
export { replicationServiceRef } from './services.js';
export { replicationMigrations, TABLES as REPLICATION_TABLES } from './migrations.js';
export { createReplication, type Replication, type ReplicationDeps, type PingOutcome } from './replication.js';
export { ReplicationEngine, type EngineSettings } from './engine.js';
export { ReplicationStore, DuplicateNameError, EndpointInUseError, type EndpointUse } from './store.js';
export { createLocalTarget, REPLICATION_PRINCIPAL } from './local-target.js';
export { replicationCommands } from './cli.js';
export type * from './model.js';
export { VERSION as REPLICATION_PLUGIN_VERSION } from './version.js';
