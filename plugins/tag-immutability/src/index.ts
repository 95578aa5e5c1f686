import { coreServices, definePlugin } from '@wharf/sdk';
import { registerImmutabilityApi } from './api.js';
import { immutabilityCommands } from './cli.js';
import { tagImmutabilityConfigSchema } from './config.js';
import { checkDelete, checkManifestPut } from './enforcement.js';
import { tagImmutabilityMigrations } from './migrations.js';
import { projectCleanupConsumer } from './project-cleanup.js';
import { RuleCache } from './rule-cache.js';
import { RuleStore } from './rule-store.js';
import { createTagImmutabilityService, tagImmutabilityServiceRef } from './services.js';
import { VERSION } from './version.js';

/**
 * `extensions: { tag-immutability: {} }` (loaded by default): Harbor's tag immutability.
 * Per-project rules select repositories and tags; a selected tag cannot be pointed to another
 * digest, moved or deleted, and an artifact holding one cannot be deleted. Enforced in the
 * kernel's policy gates, so pushes, API writes, CLI deletes and replication all meet it.
 * @see docs/adr/0031-tag-immutability.md
 */
export const tagImmutabilityPlugin = definePlugin({
  id: 'tag-immutability',
  kind: 'extension',
  version: VERSION,
  kernel: '^0.1.0',
  description: 'Tag immutability: per-project rules that keep selected tags from being overwritten, moved or deleted',
  configSchema: tagImmutabilityConfigSchema,
  cli: immutabilityCommands,
  register(ctx) {
    const config = ctx.config;
    ctx.migrations(tagImmutabilityMigrations);
    let cache: RuleCache | undefined;
    let store: RuleStore | undefined;
    ctx.provide(tagImmutabilityServiceRef, {
      deps: { database: coreServices.database },
      factory: ({ database }) => {
        store = new RuleStore(database);
        cache = new RuleCache(store, config.recheckMs, ctx.logger);
        return createTagImmutabilityService(store, cache, config.maxRulesPerProject);
      },
    });
    ctx.events.subscribe(projectCleanupConsumer(() => (store && cache ? { store, cache } : undefined)));
    ctx.registerInit({
      deps: { rules: tagImmutabilityServiceRef, artifacts: coreServices.artifacts, events: coreServices.events },
      async init({ rules, artifacts, events }) {
        const rulesCache = cache;
        if (!rulesCache) throw new Error('tag-immutability: the rules service was not built');
        ctx.hooks.registry.beforeManifestPut.tapPromise(ctx.id, (put) => checkManifestPut(rulesCache, artifacts, put));
        ctx.hooks.registry.beforeDelete.tapPromise(ctx.id, (target) => checkDelete(rulesCache, artifacts, target));
        registerImmutabilityApi(ctx.api, { rules, events });
      },
    });
  },
});

export default tagImmutabilityPlugin;
export { tagImmutabilityConfigSchema, type TagImmutabilityConfig } from './config.js';
export { tagImmutabilityServiceRef, type TagImmutabilityService } from './services.js';
export { tagImmutabilityMigrations, TABLES as TAG_IMMUTABILITY_TABLES } from './migrations.js';
export { RuleStore, RuleLimitError, type ImmutableTagRule, type RuleInput } from './rule-store.js';
export { RuleCache } from './rule-cache.js';
export { immutabilityCommands } from './cli.js';
export { VERSION as TAG_IMMUTABILITY_PLUGIN_VERSION } from './version.js';
