import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { coreServices, definePlugin, webhookTargetsServiceRef } from '@wharf/sdk';
import { metricsServiceRef } from '@wharf/plugin-metrics';
import { registerWebhooksApi } from './api.js';
import { webhooksConfigSchema } from './config.js';
import { DeliveryStore } from './delivery-store.js';
import { fanoutConsumer } from './fanout.js';
import { FanoutQueue } from './fanout-queue.js';
import { registerWebhookMetrics } from './metrics.js';
import { TABLES, webhooksMigrations } from './migrations.js';
import { PolicyStore } from './policy-store.js';
import { webhookSecretBox } from './secret-box.js';
import { webhooksServiceRef } from './services.js';
import { NetworkGuard } from './targets/network-guard.js';
import { createTargetRegistry } from './targets/registry.js';
import { VERSION } from './version.js';
import { DeliveryWorker } from './worker.js';

/**
 * `extensions: { webhooks: {} }` (on by default): Harbor's webhooks on durable events.
 * Per-project policies; a durable consumer queues each event with the policies it goes to;
 * every node's worker turns queued events into delivery rows as it has room and sends due rows,
 * signed, with retries and backoff; the history is kept bounded. Target kinds are pluggable through `webhookTargetsServiceRef`.
 */
export const webhooksPlugin = definePlugin({
  id: 'webhooks',
  kind: 'extension',
  version: VERSION,
  kernel: '^0.1.0',
  description: 'Webhooks: per-project policies, signed at-least-once deliveries to HTTP, Slack and plugged-in target kinds',
  configSchema: webhooksConfigSchema,
  register(ctx) {
    const config = ctx.config;
    if (config.delivery.leaseSeconds * 1000 <= config.delivery.timeoutMs) {
      throw new Error(`extensions.webhooks.delivery.leaseSeconds (${config.delivery.leaseSeconds} s) must exceed delivery.timeoutMs (${config.delivery.timeoutMs} ms)`);
    }
    ctx.migrations(webhooksMigrations);
    // The project's "Webhooks" tab in the web UI: a module built from ui/ into dist-ui/ (ADR 0039).
    ctx.ui.contribute({
      directory: new URL('../dist-ui/', import.meta.url),
      module: 'webhooks-tab.js',
      slots: [{ slot: 'project-tab', id: 'policies', label: { en: 'Webhooks', 'zh-CN': 'Webhook' }, roles: ['projectAdmin', 'maintainer'] }],
    });
    // Built here so that a network the config names wrongly stops the boot, naming it.
    const guard = new NetworkGuard(config.delivery.deniedNetworks);
    ctx.provide(webhookTargetsServiceRef, { factory: () => createTargetRegistry(guard) });

    ctx.events.subscribe(fanoutConsumer({ enabled: config.enabled, pullEvents: config.pullEvents, context: { registryHost: new URL(ctx.settings.publicUrl).host } }));

    ctx.provide(webhooksServiceRef, {
      deps: { database: coreServices.database, targets: webhookTargetsServiceRef, secrets: coreServices.secrets },
      factory: ({ database, targets, secrets }) => {
        const box = webhookSecretBox(secrets);
        const policies = new PolicyStore(database);
        const deliveries = new DeliveryStore(database);
        const queue = new FanoutQueue(database, deliveries);
        queue.onStuck = ({ eventId, attempts, setAside, nextTryAt, error }) => {
          if (setAside) ctx.logger.error({ eventId, attempts, err: error }, `a queued webhook event was set aside after ${attempts} failed tries: fix its row in ${TABLES.fanouts} and set attempts and next_try_at to 0, or delete it`);
          else ctx.logger.warn({ eventId, attempts, nextTryAt: new Date(nextTryAt ?? 0).toISOString(), err: error }, 'a queued webhook event cannot become deliveries yet; the others go on');
        };
        const node = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`.slice(0, 64);
        const worker = new DeliveryWorker({ deliveries, queue, policies, targets, box, config: config.delivery, logger: ctx.logger, node });
        const history = config.history;
        const purge = () => deliveries.purge({ maxAgeMs: history.maxAgeDays * 86_400_000, maxPerPolicy: history.maxPerPolicy });
        return { policies, deliveries, queue, worker, box, purge };
      },
    });

    ctx.registerInit({
      deps: { database: coreServices.database, events: coreServices.events, targets: webhookTargetsServiceRef, webhooks: webhooksServiceRef },
      optionalDeps: { metrics: metricsServiceRef },
      async init({ database, events, targets, webhooks, metrics }) {
        const { policies, deliveries, queue, worker, box, purge } = webhooks;
        if (metrics) registerWebhookMetrics(metrics.registry, queue, deliveries);
        const history = config.history;
        registerWebhooksApi(ctx.api, { database, events, policies, deliveries, targets, box, wake: () => worker.wake() });

        let purgeTimer: NodeJS.Timeout | undefined;
        ctx.hooks.lifecycle.ready.tapPromise(ctx.id, async () => {
          worker.start();
          purgeTimer = setInterval(() => {
            purge().then(
              (n) => n > 0 && ctx.logger.debug({ removed: n }, 'webhook delivery history trimmed'),
              (err: unknown) => ctx.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'webhook history purge failed'),
            );
          }, history.purgeIntervalSeconds * 1000);
          purgeTimer.unref();
        });
        ctx.hooks.lifecycle.close.tapPromise(ctx.id, async () => {
          if (purgeTimer) clearInterval(purgeTimer);
          await worker.close();
        });
      },
    });
  },
});

export default webhooksPlugin;
export { webhooksConfigSchema, type WebhooksConfig } from './config.js';
export { webhooksServiceRef, type WebhooksService } from './services.js';
export { replicationStatusChanged, type ReplicationStatusChangedData } from './replication-event.js';
export { EVENT_KINDS, EVENT_TYPE_NAMES, TEST_EVENT, type WebhookEventKind } from './event-kinds.js';
export { verifySignature, signingHeaders, SIGNATURE_HEADER, ID_HEADER, TIMESTAMP_HEADER } from './signing.js';
export { cloudEvent, renderBody } from './formats.js';
export { postJson, checkHttpAddress } from './targets/http-send.js';
export { NetworkGuard, DEFAULT_DENIED_NETWORKS } from './targets/network-guard.js';
export { VERSION as WEBHOOKS_PLUGIN_VERSION } from './version.js';
