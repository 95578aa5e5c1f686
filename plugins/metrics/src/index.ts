import { coreServices, createServiceRef, definePlugin } from '@wharf/sdk';
import type { Registry } from 'prom-client';
import { metricsConfigSchema } from './config.js';
import { listenPlain, metricsRoute, scrapeAccess } from './endpoint.js';
import { createMetrics } from './metrics.js';
import { tapObservers } from './observers.js';
import { every, refreshInventory, refreshStatus, watchPool, type RefreshDeps } from './refreshers.js';

/**
 * Prometheus metrics: hook taps feed counters and histograms in the request path (cheap,
 * synchronous), timers refresh the gauges that need the database, and `/metrics` renders the
 * registry. See README.md and docs/architecture/18-metrics.md.
 */

export const VERSION = '0.1.0';

/** What the plugin provides: its registry, and the unauthenticated listener's URL when `listen` is set. */
export interface MetricsService {
  readonly registry: Registry;
  /** `http://host:port` of the `listen` listener once it is up; `undefined` without one. */
  listenerUrl(): string | undefined;
  /** Recomputes the database-backed gauges now (tests, and operators via nothing else). */
  refresh(): Promise<void>;
}

export const metricsServiceRef = createServiceRef<MetricsService>({ id: 'metrics.registry' });

export const metricsPlugin = definePlugin({
  id: 'metrics',
  kind: 'extension',
  version: VERSION,
  kernel: '^0.1.0',
  description: 'Prometheus metrics at /metrics',
  configSchema: metricsConfigSchema,
  register(ctx) {
    const { config } = ctx;
    const metrics = createMetrics({ processMetrics: config.processMetrics });
    tapObservers(ctx.hooks, ctx.id, metrics);
    let deps: RefreshDeps | undefined;
    let listener: { url: string; close(): Promise<void> } | undefined;
    const loops: { stop(): Promise<void> }[] = [];
    const refresh = async () => {
      if (!deps) return;
      await Promise.all([refreshStatus(metrics, deps), refreshInventory(metrics, deps)]);
    };

    ctx.provide(metricsServiceRef, {
      factory: () => Object.freeze({ registry: metrics.registry, listenerUrl: () => listener?.url, refresh }),
    });
    ctx.registerInit({
      deps: {
        jobs: coreServices.jobs,
        events: coreServices.events,
        uploads: coreServices.uploads,
        artifacts: coreServices.artifacts,
        database: coreServices.database,
      },
      init(resolved) {
        deps = resolved;
        watchPool(metrics, resolved.database);
      },
    });
    ctx.hooks.lifecycle.ready.tapPromise(ctx.id, async () => {
      const d = deps as RefreshDeps;
      const status = every(config.statusRefreshSeconds, 'status', () => refreshStatus(metrics, d), ctx.logger);
      const inventory = every(config.inventoryRefreshSeconds, 'inventory', () => refreshInventory(metrics, d), ctx.logger);
      loops.push(status, inventory);
      if (config.listen !== undefined) {
        listener = await listenPlain(metrics.registry, config.listen);
        ctx.logger.info({ url: listener.url }, 'metrics listener without authentication');
      }
    });
    ctx.hooks.lifecycle.close.tapPromise(ctx.id, async () => {
      await Promise.all(loops.map((l) => l.stop()));
      await listener?.close();
    });
    if (config.endpoint) {
      const may = scrapeAccess(config.scrapeToken);
      ctx.routes((router) => router.getTopLevel('/metrics', metricsRoute(metrics.registry, may)));
    }
  },
});

export default metricsPlugin;
export { metricsConfigSchema, type MetricsConfig } from './config.js';
