import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { coreServices, KernelError, type KernelHooks, type PluginKind, type ServiceRef } from '@wharf/sdk';
import type { LoadedPlugin } from '../config/types.js';
import { deepFreeze, urlForListen } from '../config/resolve.js';
import { PLUGIN_SECTIONS, type PluginSectionName } from '../config/schema.js';
import { formatProblem, joinPath, validateConfig, type ConfigProblem } from '../config/validate.js';
import { ServiceRegistry } from '../container/service-registry.js';
import { createHooks } from '../hooks/index.js';
import { registerKernelOperations } from '../http/api/kernel-operations.js';
import { OperationRegistry } from '../http/api/operation-registry.js';
import { createLogger } from '../logging/logger.js';
import { KERNEL_VERSION } from '../version.js';
import { kernelRefs } from './kernel-refs.js';
import { callRegister, createPluginContext } from './plugin-context.js';
import { Subscriptions } from '../events/subscriptions.js';
import { isModuleKey, resolvePlugin } from './plugin-resolver.js';

/**
 * `verifyPlugin`: one plugin through the production loader, without booting anything. It
 * resolves the specifier like a config key, runs the loader's checks, validates a sample config
 * section against the plugin's schema (defaults applied) and calls `register(ctx)` on a real
 * registration context. Nothing is built and no init runs, so no I/O happens. The CLI (`wharf plugin verify`)
 * and `@wharf/sdk-testing` both call this.
 */

/** @see verifyPlugin */
export interface VerifyPluginOptions {
  /** The plugin's kind: the config section it would sit in. */
  readonly kind: PluginKind;
  /** Its config section as an operator would write it (default `{}`). */
  readonly config?: Record<string, unknown> | null | undefined;
  /** Where package names and relative paths are resolved from (default: the working directory). */
  readonly cwd?: string | undefined;
}

/** What {@link verifyPlugin} found. */
export interface PluginVerification {
  readonly id: string;
  readonly kind: PluginKind;
  readonly version: string;
  /** The kernel range the plugin declares (satisfied by this kernel). */
  readonly kernel: string;
  /** The npm package it was loaded from; `undefined` for a path without a package.json. */
  readonly packageName: string | undefined;
  /** Hooks it tapped in `register`, e.g. `auth.authenticate` (hook maps: `replication.target[oci]`). */
  readonly taps: readonly string[];
  /** Ids of the service refs it provides, e.g. `core.storage`. */
  readonly services: readonly string[];
  /** Ids of the service refs its init depends on (empty without an init). */
  readonly initDeps: readonly string[];
  /** Whether it declares database migrations. */
  readonly migrations: boolean;
  /** Whether it declares extension routes (under `/_ext/<id>`). */
  readonly routes: boolean;
  /**
   * The web UI slots it fills (`ctx.ui.contribute`), each with its module, whose file must exist
   * (a plugin packed without its built UI fails here). Absent when it contributes none.
   * @since 0.2.0
   */
  readonly ui?: readonly { readonly slot: string; readonly id: string; readonly module: string }[];
  /** Its config section after validation, defaults applied (what `register` received). */
  readonly config: Readonly<Record<string, unknown>>;
}

function sectionOf(kind: PluginKind): PluginSectionName {
  const entry = Object.entries(PLUGIN_SECTIONS).find(([, s]) => s.kind === kind);
  if (!entry) throw new KernelError('REG_ERR_PLUGIN_INVALID', `unknown plugin kind "${String(kind)}"`);
  return entry[0] as PluginSectionName;
}

/** Where the key would sit in a config file: `storage.fs`, `auth[0].db`, `extensions["./x"]`. */
function configPathOf(section: PluginSectionName, key: string): string {
  return PLUGIN_SECTIONS[section].shape === 'list' ? joinPath(joinPath(section, 0), key) : joinPath(section, key);
}

function packageNameOf(key: string, source: string | undefined, baseDir: string): string | undefined {
  if (source === undefined) return undefined;
  if (!isModuleKey(key) || key.startsWith('@')) return source;
  const manifest = path.join(path.resolve(baseDir, key), 'package.json');
  if (!existsSync(manifest)) return undefined;
  const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

/** Validates the section in place (ajv fills in defaults), with paths as the kernel reports them. */
function validateSection(id: string, configPath: string, schema: unknown, section: Record<string, unknown>): void {
  const at = (p: string) => (p === '' ? configPath : p.startsWith('[') ? `${configPath}${p}` : `${configPath}.${p}`);
  const problems: ConfigProblem[] = validateConfig(schema as never, section).map((p) => ({ path: at(p.path), message: p.message, plugin: id }));
  if (problems.length === 0) return;
  const lines = problems.map((p) => `  - ${formatProblem({ path: p.path, message: p.message })}`).join('\n');
  const err = new KernelError('REG_ERR_CONFIG_INVALID', `plugin "${id}": invalid configuration:\n${lines}`, { plugin: id });
  // The CLI prints one line per problem, as for a whole config file.
  Object.defineProperty(err, 'problems', { value: problems, enumerable: false });
  throw err;
}

/** `auth.authenticate`, ... for every hook the plugin tapped, in catalogue order. */
function tapsOf(hooks: KernelHooks, id: string): string[] {
  const out: string[] = [];
  const tapped = (hook: { taps?: readonly { name: string }[] }) => (hook.taps ?? []).some((t) => t.name === id);
  for (const [domain, group] of Object.entries(hooks)) {
    for (const [name, hook] of Object.entries(group as Record<string, unknown>)) {
      // tapable keeps a HookMap's per-key hooks in `_map`; it has no public iterator.
      const map = (hook as { _map?: Map<string, { taps: readonly { name: string }[] }> })._map;
      if (map) for (const [key, inner] of map) if (tapped(inner)) out.push(`${domain}.${name}[${key}]`);
      if (!map && tapped(hook as { taps?: readonly { name: string }[] })) out.push(`${domain}.${name}`);
    }
  }
  return out;
}

/**
 * Runs `register` like the kernel's boot does, on the kernel's own hooks, service registry and
 * API registry (with the kernel's services and operations in place, so clashes show), then the
 * checks that follow registration at boot and need no other plugin.
 */
function registerAlone(lp: LoadedPlugin, baseDir: string): Pick<PluginVerification, 'taps' | 'services' | 'initDeps' | 'migrations' | 'routes'> & { ui: NonNullable<PluginVerification['ui']> } {
  const { plugin } = lp;
  const logger = createLogger({ level: 'silent', format: 'json' });
  const hooks = createHooks({ logger });
  const services = new ServiceRegistry();
  const api = new OperationRegistry();
  const publicUrl = urlForListen('127.0.0.1:5000');
  // Never created: register must do no I/O, and nothing is built here.
  const settings = Object.freeze({ dataDir: path.resolve(baseDir, 'data'), publicUrl });
  const unbuilt = () => {
    throw new Error('services are not built during verification');
  };
  // The kernel's refs, its own included, so a plugin providing one of them fails here as at boot
  // (storage is the storage plugin's to provide).
  const provided: ServiceRef<unknown>[] = [...Object.values(coreServices), ...Object.values(kernelRefs)].filter((ref) => ref !== coreServices.storage);
  for (const ref of provided) services.provide('kernel', ref, { factory: unbuilt });
  registerKernelOperations(api.viewFor('kernel'), { version: KERNEL_VERSION, publicUrl: () => publicUrl, token: () => undefined });

  let sealed = false;
  const subscriptions = new Subscriptions({ maxAttempts: 1 });
  const ctx = createPluginContext(lp, { hooks, services, logger, settings, api, events: { subscribe: (c) => subscriptions.add(c) } }, { hooksSealed: () => sealed, provideSealed: () => sealed });
  try {
    callRegister(lp, ctx);
  } finally {
    sealed = true;
  }
  api.seal();
  if (plugin.kind === 'storage' && services.providerOf(coreServices.storage) !== plugin.id) {
    throw new KernelError('REG_ERR_SERVICE_MISSING', `storage plugin "${plugin.id}" did not provide ${coreServices.storage.id}`, { plugin: plugin.id });
  }
  const { init, migrations, routes } = ctx.declared;
  const ui = (ctx.declared.ui ?? []).flatMap((c) => {
    const file = path.join(c.directory, c.module);
    if (!existsSync(file)) {
      throw new KernelError('REG_ERR_PLUGIN_REGISTER', `plugin "${plugin.id}": its UI module ${file} does not exist (is the plugin's UI built, and in the package's files?)`, { plugin: plugin.id });
    }
    return c.slots.map((s) => ({ slot: s.slot, id: s.id, module: c.module }));
  });
  return {
    ui,
    taps: tapsOf(hooks, plugin.id),
    services: [...ctx.provided],
    initDeps: Object.values(init?.deps ?? {}).map((ref) => ref.id),
    migrations: migrations !== undefined,
    routes: routes !== undefined,
  };
}

/**
 * Loads one plugin the way the kernel does and checks it without booting: resolves `specifier`
 * as a config key of `options.kind` (a plain id means `@wharf/plugin-<kind>-<id>`, then
 * `wharf-plugin-<kind>-<id>`; a scoped name or a path is used as given), checks brand, API
 * version, id, kind and kernel range, validates `options.config` against the plugin's schema and
 * runs `register(ctx)`. Throws a `KernelError` naming the plugin on the first problem.
 * @see docs/architecture/04-plugins.md
 * @since 0.1.0
 */
export async function verifyPlugin(specifier: string, options: VerifyPluginOptions): Promise<PluginVerification> {
  const section = sectionOf(options.kind);
  const configPath = configPathOf(section, specifier);
  const baseDir = path.resolve(options.cwd ?? process.cwd());
  const { plugin, source } = await resolvePlugin({ kind: options.kind, key: specifier, configPath, baseDir });
  const config: Record<string, unknown> = structuredClone(options.config ?? {});
  validateSection(plugin.id, configPath, plugin.configSchema, config);
  deepFreeze(config);
  const lp: LoadedPlugin = { plugin, section, key: specifier, index: PLUGIN_SECTIONS[section].shape === 'list' ? 0 : undefined, configPath, source, config };
  const { taps, services, initDeps, migrations, routes, ui } = registerAlone(lp, baseDir);
  return Object.freeze({
    id: plugin.id,
    kind: plugin.kind,
    version: plugin.version,
    kernel: plugin.kernel,
    packageName: packageNameOf(specifier, source, baseDir),
    taps: Object.freeze(taps),
    services: Object.freeze(services),
    initDeps: Object.freeze(initDeps),
    migrations,
    routes,
    ...(ui.length > 0 ? { ui: Object.freeze(ui) } : {}),
    config,
  });
}
