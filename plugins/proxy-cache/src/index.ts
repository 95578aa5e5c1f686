import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { coreServices, definePlugin, projectServices } from '@wharf/sdk';
import { metricsServiceRef } from '@wharf/plugin-metrics';
import { replicationServiceRef } from '@wharf/plugin-replication';
import { registerProxyCacheApi } from './api.js';
import { createBlobProxy } from './blobs.js';
import { proxyCacheConfigSchema } from './config.js';
import { pushGates } from './gates.js';
import { createManifestProxy } from './manifests.js';
import { createProxyMetrics, NO_METRICS } from './metrics.js';
import { createReferrersProxy } from './referrers.js';
import { proxyCacheMigrations } from './migrations.js';
import { proxyCacheServiceRef } from './services.js';
import { ProxySettingsStore } from './store.js';
import { Upstreams } from './upstreams.js';
import { VERSION } from './version.js';

/**
 * `extensions: { proxy-cache: {} }` (loaded by default): proxy-cache projects. A project bound
 * to upstream registry endpoints (those of the replication plugin, credentials sealed there)
 * serves pulls of `<project>/<path>` from its cache, fetching what it lacks from the upstreams
 * in order: manifests through `registry.prepareManifest`, blobs through `registry.fetchBlob`,
 * stored as ordinary content through `coreServices.content`. Pushes are refused.
 * @see docs/architecture/26-proxy-cache.md
 */
export const proxyCachePlugin = definePlugin({
  id: 'proxy-cache',
  kind: 'extension',
  version: VERSION,
  kernel: '^0.1.0',
  description: 'Proxy-cache projects: pull through from upstream registries, served stale when they fail',
  configSchema: proxyCacheConfigSchema,
  dependsOn: ['replication'],
  register(ctx) {
    const config = ctx.config;
    const spoolDir = config.spoolDir ?? path.join(tmpdir(), `wharf-proxy-cache-${process.pid}`);
    ctx.migrations(proxyCacheMigrations);
    ctx.provide(proxyCacheServiceRef, {
      deps: { database: coreServices.database },
      factory: ({ database }) => Object.freeze({ settings: new ProxySettingsStore(database, config.settingsCacheMs) }),
    });
    // A deleted project stops being a proxy: a new project of the same name starts as an ordinary one.
    ctx.events.subscribe({
      name: 'proxy-cache-projects',
      types: ['management.project.deleted'],
      deps: { proxy: proxyCacheServiceRef },
      async handle({ event }, { proxy }) {
        const data = event.data as { resource?: string; id?: string };
        if (data.resource === 'project' && data.id) await proxy.settings.delete(data.id);
      },
    });
    ctx.registerInit({
      deps: {
        proxy: proxyCacheServiceRef,
        artifacts: coreServices.artifacts,
        blobs: coreServices.blobs,
        content: coreServices.content,
        replication: replicationServiceRef,
      },
      optionalDeps: { projects: projectServices.directory, metrics: metricsServiceRef },
      async init({ proxy, artifacts, blobs, content, replication, projects, metrics }) {
        await mkdir(spoolDir, { recursive: true });
        const { settings } = proxy;
        const upstreams = new Upstreams(replication, ctx.logger, Math.max(config.settingsCacheMs, 1000));
        const deps = {
          settings, upstreams, artifacts, blobs, content, logger: ctx.logger,
          metrics: metrics ? createProxyMetrics(metrics.registry) : NO_METRICS,
          timeoutSeconds: config.upstreamTimeoutSeconds,
        };
        const manifests = createManifestProxy(deps);
        const blobProxy = createBlobProxy(deps, spoolDir);
        const gates = pushGates(settings);
        registerProxyCacheApi(ctx.api, { store: settings, replication, projects });
        // An endpoint a proxy project pulls through cannot be deleted, as one a policy uses cannot.
        replication.store.addEndpointUse(async (endpointId) => {
          const project = await settings.projectUsing(endpointId);
          return project === undefined ? undefined : `proxy-cache project ${project}`;
        });
        ctx.hooks.registry.prepareManifest.tapPromise(ctx.id, manifests);
        ctx.hooks.registry.prepareReferrers.tapPromise(ctx.id, createReferrersProxy(deps));
        ctx.hooks.registry.fetchBlob.tapPromise(ctx.id, (request) => blobProxy.fetch(request));
        ctx.hooks.registry.beforeUploadStart.tapPromise(ctx.id, (context) => gates.beforeUploadStart(context));
        ctx.hooks.registry.beforeManifestPut.tapPromise(ctx.id, (context) => gates.beforeManifestPut(context));
        ctx.hooks.lifecycle.close.tapPromise(ctx.id, async () => {
          await blobProxy.close();
          await upstreams.close();
          // Our own directory (one per process) goes; an operator's spoolDir is left as it is.
          if (config.spoolDir === undefined) await rm(spoolDir, { recursive: true, force: true }).catch(() => undefined);
        });
      },
    });
  },
});

export default proxyCachePlugin;
export { proxyCacheConfigSchema, type ProxyCacheConfig } from './config.js';
export { proxyCacheMigrations, TABLES as PROXY_CACHE_TABLES } from './migrations.js';
export { upstreamRepository, isDockerHub } from './upstreams.js';
export { PROXY_PRINCIPAL } from './proxy.js';
export { proxyCacheServiceRef, type ProxyCacheService } from './services.js';
export { VERSION as PROXY_CACHE_PLUGIN_VERSION } from './version.js';
