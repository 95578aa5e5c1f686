import { HookMap } from 'tapable';
import type { Logger } from 'pino';
import { KernelError, type KernelHooks, type PluginHooks } from '@wharf/sdk';
import { createAuthHooks } from './auth.js';
import { createLifecycleHooks } from './lifecycle.js';
import { createLoggingHooks } from './logging.js';
import { createRbacHooks } from './rbac.js';
import { createRegistryHooks } from './registry.js';
import { createReplicationHooks } from './replication.js';
import { isReversed, type TapRecord } from './instrument.js';
import { createHttpHooks, createJobsHooks, createStorageHooks } from './observe.js';

export { pluginOfError } from './instrument.js';
export { observe } from './observe.js';

/**
 * The hook catalogue: one frozen object of domains, each a frozen object of tapable hooks.
 * The hooks themselves stay mutable (tapable keeps its taps on them); nothing can be added,
 * removed or replaced.
 */
export function createHooks(options: { logger?: Logger | undefined } = {}): KernelHooks {
  const o = { logger: options.logger };
  return Object.freeze({
    auth: createAuthHooks(o),
    rbac: createRbacHooks(o),
    registry: createRegistryHooks(o),
    replication: createReplicationHooks(o),
    logging: createLoggingHooks(o),
    lifecycle: createLifecycleHooks(o),
    http: createHttpHooks(o),
    storage: createStorageHooks(o),
    jobs: createJobsHooks(o),
  });
}

interface TappableLike {
  readonly name?: string | undefined;
  readonly taps: readonly TapRecord[];
  tap?: (options: unknown, fn: unknown) => void;
  tapAsync?: (options: unknown, fn: unknown) => void;
  tapPromise?: (options: unknown, fn: unknown) => void;
}

type TapMethod = 'tap' | 'tapAsync' | 'tapPromise';

/** Plugins beyond this many would share a tap order slot (stages are spaced by 1). */
const ORDER_SLOTS = 1000;

function tapOnly(hook: TappableLike, pluginId: string, sealed: () => boolean, order: number | undefined) {
  const method = (m: TapMethod) => (options: unknown, fn: unknown) => {
    if (sealed()) {
      throw new KernelError('REG_ERR_PLUGIN_SEALED', `plugin "${pluginId}" tapped ${hook.name ?? 'a hook'} after the kernel was ready; tap in register() or in the plugin's init`, { plugin: pluginId });
    }
    const target = hook[m];
    if (typeof target !== 'function') throw new TypeError(`${hook.name ?? 'this hook'} has no ${m}()`);
    // The tap name is always the plugin id: logs and errors then say who tapped and who threw.
    const opts: { name: string; stage?: number } =
      typeof options === 'object' && options !== null ? { ...(options as object), name: pluginId } : { name: pluginId };
    if (order !== undefined) {
      // Within a stage, taps run in plugin (config) order whether made in register or in a later
      // init: the plugin's position goes into the fraction of the stage (reversed for close).
      const slot = (Math.min(order, ORDER_SLOTS - 2) + 1) / ORDER_SLOTS;
      opts.stage = (typeof opts.stage === 'number' ? opts.stage : 0) + (isReversed(hook) ? -slot : slot);
    }
    target.call(hook, opts, fn);
  };
  return Object.freeze({ tap: method('tap'), tapAsync: method('tapAsync'), tapPromise: method('tapPromise') });
}

/**
 * The tap-only view a plugin gets in `register(ctx)`: no `call`/`promise`, tap names forced to
 * the plugin id (stage and before are kept), and every tap refused once `sealed()` is true.
 * With `order` (the plugin's position in the config), taps keep plugin order within a stage.
 */
export function createPluginHooks(hooks: KernelHooks, pluginId: string, sealed: () => boolean, order?: number): PluginHooks {
  const domains: Record<string, unknown> = {};
  for (const [domain, group] of Object.entries(hooks)) {
    const view: Record<string, unknown> = {};
    for (const [name, hook] of Object.entries(group as Record<string, unknown>)) {
      if (hook instanceof HookMap) {
        const map = hook as HookMap<TappableLike>;
        view[name] = Object.freeze({ for: (key: string) => tapOnly(map.for(key), pluginId, sealed, order) });
      } else {
        view[name] = tapOnly(hook as TappableLike, pluginId, sealed, order);
      }
    }
    domains[domain] = Object.freeze(view);
  }
  return Object.freeze(domains) as unknown as PluginHooks;
}

/** True when anyone tapped the hook (for a hook map: any of its keys). */
export function hasTaps<H>(hook: { readonly taps: readonly unknown[] } | HookMap<H>): boolean {
  if (hook instanceof HookMap) {
    // tapable keeps the per-key hooks in `_map`; it has no public iterator.
    const inner = (hook as unknown as { _map?: Map<unknown, { taps: readonly unknown[] }> })._map;
    return [...(inner?.values() ?? [])].some((h) => h.taps.length > 0);
  }
  return hook.taps.length > 0;
}

/** The keys of a hook map that have at least one tap (e.g. the replication adapter types). */
export function tappedKeys<H>(hook: HookMap<H>): string[] {
  const inner = (hook as unknown as { _map?: Map<string, { taps: readonly unknown[] }> })._map;
  return [...(inner?.entries() ?? [])].filter(([, h]) => h.taps.length > 0).map(([key]) => key).sort();
}

/** Names of the plugins (tap names) that tapped a hook, in run order. */
export function tapNames(hook: { readonly taps: readonly { name: string }[] }): string[] {
  return hook.taps.map((t) => t.name);
}
