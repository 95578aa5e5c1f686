import {
  isKernelError,
  KernelError,
  type KernelHooks,
  type KernelSettings,
  type PluginContext,
  type PluginInit,
  type PluginMigrations,
  type BatchDeliveryContext,
  type EventConsumer,
  type ScopedRouter,
  type ServiceDeps,
  type ServiceFactory,
  type ServiceRef,
  type UiContribution,
  type RegisteredUiContribution,
  uiContributionProblem,
} from '@wharf/sdk';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { ServiceRegistry } from '../container/service-registry.js';
import type { OperationRegistry } from '../http/api/operation-registry.js';
import type { LoadedPlugin } from '../config/types.js';
import { createPluginHooks } from '../hooks/index.js';
import { ownerMigrationTable } from '../metadata/database-service.js';
import { pluginLogger } from '../logging/logger.js';

/**
 * What `register(ctx)` receives: narrow capabilities, never the container or the app. Taps are
 * refused once the kernel is ready; `provide` and the other declarations once registration is
 * over (singletons are built right after, so a later service could never be resolved at boot).
 */
export interface ContextGates {
  readonly hooksSealed: () => boolean;
  readonly provideSealed: () => boolean;
}

/** What a plugin declared in `register`, besides services, taps and API operations. */
export interface PluginDeclarations {
  init?: PluginInit<ServiceDeps>;
  migrations?: PluginMigrations;
  routes?: (router: ScopedRouter) => void;
  /** The `deps` of the plugin's durable consumers (checked at boot like the init's). */
  consumerDeps?: ServiceDeps[];
  /** Web UI contributions (`ctx.ui.contribute`), the directory resolved. */
  ui?: RegisteredUiContribution[];
}

export interface RecordingContext extends PluginContext<Record<string, unknown>> {
  readonly provided: readonly string[];
  readonly declared: Readonly<PluginDeclarations>;
}

export function createPluginContext(
  loaded: LoadedPlugin,
  deps: { hooks: KernelHooks; services: ServiceRegistry; logger: Logger; settings: KernelSettings; api: OperationRegistry; order?: number; events: { subscribe(consumer: EventConsumer): void } },
  gates: ContextGates,
): RecordingContext {
  const id = loaded.plugin.id;
  const provided: string[] = [];
  const declared: PluginDeclarations = {};
  const declaring = (what: string, key: keyof PluginDeclarations, value: unknown, check: (v: unknown) => boolean) => {
    if (gates.provideSealed()) {
      throw new KernelError('REG_ERR_PLUGIN_SEALED', `plugin "${id}" called ${what} after registration; declare it in register()`, { plugin: id });
    }
    if (declared[key] !== undefined) throw new KernelError('REG_ERR_PLUGIN_REGISTER', `plugin "${id}" called ${what} twice; once per plugin`, { plugin: id });
    if (!check(value)) throw new KernelError('REG_ERR_PLUGIN_REGISTER', `plugin "${id}": ${what} got an invalid argument`, { plugin: id });
    (declared as Record<string, unknown>)[key] = value;
  };
  return Object.freeze({
    id,
    config: loaded.config,
    logger: pluginLogger(deps.logger, id),
    settings: deps.settings,
    hooks: createPluginHooks(deps.hooks, id, gates.hooksSealed, deps.order),
    api: deps.api.viewFor(id),
    events: Object.freeze({
      subscribe<D extends ServiceDeps>(consumer: EventConsumer<D>): void {
        const refs: ServiceDeps = consumer?.deps ?? {};
        if (typeof refs !== 'object' || !Object.values(refs).every((r) => (r as ServiceRef<unknown>)?.$$type === 'wharf/ServiceRef')) {
          throw new KernelError('REG_ERR_PLUGIN_REGISTER', `plugin "${id}": consumer ${String(consumer?.name)} has deps that are not service refs`, { plugin: id });
        }
        (declared.consumerDeps ??= []).push(refs);
        // Built on the first delivery: consumers start after every service and init.
        let resolved: Record<string, unknown> | undefined;
        const resolve = (): Record<string, unknown> => {
          if (resolved) return resolved;
          const built: Record<string, unknown> = {};
          for (const [key, ref] of Object.entries(refs)) built[key] = deps.services.resolve(ref);
          return (resolved = built);
        };
        try {
          const { deps: _declared, ...rest } = consumer;
          const handleBatch = consumer.handleBatch?.bind(consumer);
          deps.events.subscribe({
            ...rest,
            handle: (delivery) => consumer.handle(delivery, resolve() as never),
            ...(handleBatch ? { handleBatch: (batch: BatchDeliveryContext) => handleBatch(batch, resolve() as never) } : {}),
          });
        } catch (err) {
          throw isKernelError(err) ? ownKernelError(err, id) : err;
        }
      },
    }),
    provided,
    declared,
    provide<T, D extends ServiceDeps>(ref: ServiceRef<T>, factory: ServiceFactory<T, D>): void {
      if (gates.provideSealed()) {
        throw new KernelError('REG_ERR_PLUGIN_SEALED', `plugin "${id}" called provide(${ref?.id}) after registration; provide services in register()`, { plugin: id });
      }
      deps.services.provide(id, ref, factory as unknown as ServiceFactory<T, Record<string, ServiceRef<unknown>>>);
      provided.push(ref.id);
    },
    registerInit<D extends ServiceDeps, O extends ServiceDeps>(init: PluginInit<D, O>): void {
      const refs = (deps: unknown) => typeof deps === 'object' && deps !== null && Object.values(deps).every((r) => (r as ServiceRef<unknown>)?.$$type === 'wharf/ServiceRef');
      const valid = (v: unknown) => {
        const i = v as PluginInit<D, O> | undefined;
        return typeof i?.init === 'function' && refs(i.deps) && (i.optionalDeps === undefined || refs(i.optionalDeps));
      };
      declaring('registerInit()', 'init', init as unknown as PluginInit<ServiceDeps>, valid);
    },
    migrations(migrations: PluginMigrations): void {
      // The owner (`<kind>-<id>`) names the bookkeeping tables: refuse one too long for them now.
      ownerMigrationTable(`${loaded.plugin.kind}-${id}`);
      declaring('migrations()', 'migrations', migrations, (v) => Array.isArray(v) || typeof v === 'function');
    },
    routes(mount: (router: ScopedRouter) => void): void {
      declaring('routes()', 'routes', mount, (v) => typeof v === 'function');
    },
    ui: Object.freeze({
      contribute(contribution: UiContribution): void {
        if (gates.provideSealed()) {
          throw new KernelError('REG_ERR_PLUGIN_SEALED', `plugin "${id}" called ui.contribute() after registration; declare it in register()`, { plugin: id });
        }
        const problem = uiContributionProblem(contribution);
        if (problem) throw new KernelError('REG_ERR_PLUGIN_REGISTER', `plugin "${id}": ui.contribute(): ${problem}`, { plugin: id });
        const taken = new Set((declared.ui ?? []).flatMap((c) => c.slots.map((s) => s.id)));
        const twice = contribution.slots.find((s, i) => taken.has(s.id) || contribution.slots.findIndex((o) => o.id === s.id) !== i);
        if (twice) throw new KernelError('REG_ERR_PLUGIN_REGISTER', `plugin "${id}": ui.contribute(): slot id "${twice.id}" is used twice`, { plugin: id });
        const dir = contribution.directory instanceof URL ? fileURLToPath(contribution.directory) : contribution.directory;
        (declared.ui ??= []).push(
          Object.freeze({
            plugin: id,
            directory: dir,
            module: contribution.module,
            slots: Object.freeze(contribution.slots.map((s) => Object.freeze({ ...s, label: Object.freeze({ ...s.label }), ...(s.roles ? { roles: Object.freeze([...s.roles]) } : {}) }))),
          }),
        );
      },
    }),
  });
}

/**
 * Calls `register(ctx)` as boot does: its errors become `REG_ERR_PLUGIN_REGISTER` naming the
 * plugin, and a `register` that returns a promise is refused (registration is synchronous).
 * Shared by the kernel's boot and `verifyPlugin`, so both judge a plugin the same way.
 */
export function callRegister(loaded: LoadedPlugin, ctx: PluginContext<Record<string, unknown>>): void {
  const { plugin } = loaded;
  let result: unknown;
  try {
    result = plugin.register(ctx);
  } catch (err) {
    if (isKernelError(err)) throw ownKernelError(err, plugin.id);
    throw new KernelError('REG_ERR_PLUGIN_REGISTER', `plugin "${plugin.id}" (${loaded.configPath}) failed in register(): ${(err as Error)?.message ?? String(err)}`, {
      plugin: plugin.id,
      cause: err,
    });
  }
  if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
    (result as Promise<unknown>).then(undefined, () => undefined); // already failing; don't leave it unhandled
    throw new KernelError(
      'REG_ERR_PLUGIN_REGISTER',
      `plugin "${plugin.id}" (${loaded.configPath}): register() returned a promise; it must be synchronous (do I/O in a factory or a lifecycle.ready tap)`,
      { plugin: plugin.id },
    );
  }
}

/**
 * A KernelError of this kernel's class for one that may come from a plugin's own copy of
 * `@wharf/sdk` (same name and code, another class): its code and message are kept, and it is
 * blamed on `plugin` unless it names one.
 */
export function ownKernelError(err: KernelError, plugin?: string): KernelError {
  if (err instanceof KernelError) return err;
  const foreign = err as { readonly code: KernelError['code']; readonly message: string; readonly plugin?: string | undefined };
  const blamed = foreign.plugin ?? plugin;
  return new KernelError(foreign.code, foreign.message, { ...(blamed ? { plugin: blamed } : {}), cause: err });
}
