import { isKernelError, KernelError, type DatabaseDialect, type ServiceDeps, type ServiceRef } from '@wharf/sdk';
import type { OwnerMigrator } from '../metadata/index.js';
import type { TapRecord } from '../hooks/instrument.js';
import { pluginOfError } from '../hooks/index.js';
import { ownKernelError, type PluginDeclarations } from './plugin-context.js';

/**
 * The plugin side of boot once every singleton is built: declared migrations, then each init,
 * then the `lifecycle.ready` taps. Inits and ready taps run under `server.bootTimeoutMs`, so an
 * unreachable LDAP or S3 fails the boot naming the plugin instead of hanging it.
 */

export interface DeclaredPlugin {
  readonly id: string;
  readonly kind: string;
  readonly declared: Readonly<PluginDeclarations>;
}

/** The migration owner of a plugin: `auth` + `db` -> `auth-db` (table `wharf_auth_db_migrations`). */
export function migrationOwner(plugin: { readonly id: string; readonly kind: string }): string {
  return `${plugin.kind}-${plugin.id}`;
}

/**
 * Settles like `work`, or rejects with `REG_ERR_PLUGIN_TIMEOUT` naming the plugin and the step
 * once `ms` passed. The timer keeps the process alive on purpose: a step hung on nothing (a
 * promise that never settles) must fail the boot, not let the process exit silently.
 */
export function withTimeout<T>(work: () => Promise<T> | T, ms: number, plugin: string, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new KernelError('REG_ERR_PLUGIN_TIMEOUT', `plugin "${plugin}": ${what} did not finish within ${ms} ms (server.bootTimeoutMs)`, { plugin }));
    }, ms);
    Promise.resolve()
      .then(work)
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}

function failed(code: 'REG_ERR_PLUGIN_INIT' | 'REG_ERR_DATABASE', plugin: string, what: string, err: unknown): KernelError {
  if (isKernelError(err)) return ownKernelError(err, plugin);
  return new KernelError(code, `plugin "${plugin}": ${what} failed: ${(err as Error)?.message ?? String(err)}`, { plugin, cause: err });
}

/** Runs every plugin's declared migrations, in plugin order. */
export async function runPluginMigrations(plugins: readonly DeclaredPlugin[], migrator: OwnerMigrator, dialect: DatabaseDialect): Promise<void> {
  for (const p of plugins) {
    const declared = p.declared.migrations;
    if (declared === undefined) continue;
    try {
      const list = typeof declared === 'function' ? declared(dialect) : declared;
      await migrator.migrate(migrationOwner(p), list);
    } catch (err) {
      throw failed('REG_ERR_DATABASE', p.id, 'migrations', err);
    }
  }
}

/** Every init's and durable consumer's deps are provided (checked with the services' own dependencies, before building). */
export function checkInitDeps(plugins: readonly DeclaredPlugin[], providerOf: (ref: ServiceRef<unknown>) => string | undefined): void {
  const check = (id: string, who: string, deps: ServiceDeps) => {
    for (const [key, ref] of Object.entries(deps)) {
      if (providerOf(ref) === undefined) {
        throw new KernelError('REG_ERR_SERVICE_MISSING', `plugin "${id}": ${who} needs ${ref.id} (as "${key}"), but no plugin provides ${ref.id}`, { plugin: id });
      }
    }
  };
  for (const p of plugins) {
    check(p.id, 'its init', p.declared.init?.deps ?? {});
    for (const deps of p.declared.consumerDeps ?? []) check(p.id, 'a durable consumer', deps);
  }
}

/** Calls each plugin's init in plugin order with its resolved deps. */
export async function runInits(
  plugins: readonly DeclaredPlugin[],
  resolve: <T>(ref: ServiceRef<T>) => T,
  timeoutMs: number,
  isProvided: (ref: ServiceRef<unknown>) => boolean = () => true,
): Promise<void> {
  for (const p of plugins) {
    const init = p.declared.init;
    if (!init) continue;
    const deps: Record<string, unknown> = {};
    for (const [key, ref] of Object.entries(init.deps as ServiceDeps)) deps[key] = resolve(ref);
    // Optional ones: the service when some plugin provides it, else undefined.
    for (const [key, ref] of Object.entries((init.optionalDeps ?? {}) as ServiceDeps)) deps[key] = isProvided(ref) ? resolve(ref) : undefined;
    try {
      await withTimeout(() => init.init(deps as never), timeoutMs, p.id, 'init');
    } catch (err) {
      throw failed('REG_ERR_PLUGIN_INIT', p.id, 'init', err);
    }
  }
}

/**
 * Runs the `lifecycle.ready` taps in parallel (the hook's kind), each under the timeout: called
 * one by one, not through `promise()`, so a hung tap is known by name.
 */
export async function runReadyTaps(hook: { readonly taps: readonly TapRecord[] }, timeoutMs: number): Promise<void> {
  const runs = hook.taps.map((tap) => {
    const call = (): Promise<unknown> | unknown => {
      if (tap.type !== 'async') return (tap.fn as () => unknown)();
      return new Promise<void>((resolve, reject) => (tap.fn as (cb: (err?: unknown) => void) => void)((err) => (err ? reject(err) : resolve())));
    };
    return withTimeout(call, timeoutMs, tap.name, 'lifecycle.ready tap').catch((err: unknown) => {
      if (isKernelError(err)) throw ownKernelError(err, tap.name);
      const plugin = pluginOfError(err)?.plugin ?? tap.name;
      throw new KernelError('REG_ERR_PLUGIN_INIT', `plugin "${plugin}": lifecycle.ready failed: ${(err as Error)?.message ?? String(err)}`, { plugin, cause: err });
    });
  });
  // The first failure fails the boot, as the hook's own promise() would.
  await Promise.all(runs);
}
