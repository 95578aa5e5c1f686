import type { Static, TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { CliCommandGroup } from './cli.js';
import type { DatabaseDialect, PluginMigration } from './database.js';
import type { PluginHooks } from './hooks.js';
import type { ScopedRouter } from './http.js';
import type { ManagementApi } from './management-api.js';
import type { EventConsumer } from './durable-events.js';
import type { PluginUi } from './ui.js';
import type { KernelSettings, ResolvedDeps, ServiceDeps, ServiceFactory, ServiceOf, ServiceRef } from './services.js';

/**
 * The plugin contract: what a plugin module exports and what `register(ctx)` receives.
 * @see docs/architecture/04-plugins.md
 * @since 0.1.0
 */

/** The kinds of plugin, which are also the sections of the config file that name them. */
export const PLUGIN_KINDS = Object.freeze(['storage', 'auth', 'rbac', 'replication', 'logging', 'extension'] as const);
export type PluginKind = (typeof PLUGIN_KINDS)[number];

/** What a plugin declares about itself before it runs. */
export interface PluginDefinition<S extends TSchema = TSchema> {
  /** Kebab-case id, unique per kind; also the config key that selects the plugin (`storage: { fs: {...} }`). */
  readonly id: string;
  readonly kind: PluginKind;
  /** The plugin's own version (its package version), shown in the boot tree. */
  readonly version: string;
  /** Semver range of kernel versions the plugin works with, e.g. `^0.1.0`. */
  readonly kernel: string;
  readonly description?: string;
  /** TypeBox schema of the plugin's config section. Mark secrets with `{ secret: true }`. */
  readonly configSchema: S;
  /** Ids of plugins that must be loaded (and registered) before this one. */
  readonly dependsOn?: readonly string[];
  /**
   * Commands the plugin adds to the `wharf` CLI (`wharf user add ...`). Declared here rather
   * than in `register`: the CLI knows its commands before it reads any config.
   * @see CliCommandGroup
   */
  readonly cli?: readonly CliCommandGroup[];
  /**
   * Declares what the plugin brings: services, migrations, an init, taps, API operations,
   * routes. Synchronous and free of I/O: do I/O in the init, a service factory's methods or a
   * `lifecycle.ready` tap.
   */
  register(ctx: PluginContext<Static<S>>): void;
}

/** A plugin as exported by its module: the definition, branded. */
export interface WharfPlugin<S extends TSchema = TSchema> extends PluginDefinition<S> {
  readonly $$type: 'wharf/Plugin';
  readonly apiVersion: 1;
}

/** What `register` gets: narrow, typed capabilities. Never the container or the HTTP app. */
export interface PluginContext<C> {
  /** The plugin id. */
  readonly id: string;
  /** The plugin's config section, validated against its schema (defaults applied) and frozen. */
  readonly config: Readonly<C>;
  /** A pino child logger with `{ plugin: id }`. */
  readonly logger: Logger;
  /** Kernel settings (data directory, public URL). */
  readonly settings: KernelSettings;
  /** The hook catalogue, tap-only. */
  readonly hooks: PluginHooks;
  /**
   * Adds operations to the management API (`/api/v1`): in `register` or in the plugin's init,
   * refused once the kernel is ready.
   */
  readonly api: ManagementApi;
  /**
   * Durable event consumers: `subscribe` during `register`, so every node knows the same ones.
   * Publishing goes through `coreServices.events`.
   * @since 0.2.0
   */
  readonly events: { subscribe<D extends ServiceDeps>(consumer: EventConsumer<D>): void };
  /** Provides a service. A service ref can be provided once per kernel; in `register` only. */
  provide<T, D extends ServiceDeps>(ref: ServiceRef<T>, factory: ServiceFactory<T, D>): void;
  /**
   * Declares the plugin's init: the services it needs and what it does once they are built.
   * At most once per plugin, in `register` only.
   * @see PluginInit
   */
  registerInit<D extends ServiceDeps, O extends ServiceDeps = Record<never, never>>(init: PluginInit<D, O>): void;
  /**
   * Declares the plugin's database migrations. The kernel runs them (when `database.migrate` is
   * true, and in `wharf migrate`) in plugin order, after its own and before any init, recorded
   * in `wharf_<kind>_<id>_migrations`. At most once per plugin, in `register` only.
   * @see PluginMigrations
   */
  migrations(migrations: PluginMigrations): void;
  /**
   * Declares the plugin's extension routes, mounted under `/_ext/<pluginId>` (the plugin id
   * must be a path segment). `mount` is called once, when the kernel builds its HTTP
   * application, after every init. At most once per plugin, in `register` only.
   */
  routes(mount: (router: ScopedRouter) => void): void;
  /**
   * Contributes screens to the web UI (a page, a project or repository tab, a summary panel): a
   * built ES module of the plugin's package that the UI loads at runtime. In `register` only.
   * @see UiContribution
   * @since 0.2.0
   */
  readonly ui: PluginUi;
}

/**
 * A plugin's init, declared with {@link PluginContext.registerInit} (backstage's
 * `registerInit`). The kernel resolves `deps` (every one must be provided by the kernel or a
 * plugin, or boot fails naming the plugin), then calls `init` in plugin order once all
 * singletons are built and all migrations ran, before `lifecycle.ready`. Hook taps and API
 * operations that need a service belong here, so no handler captures a service that may not
 * be built yet; taps keep plugin (config) order whichever phase made them. An init that does
 * not settle within `server.bootTimeoutMs` fails boot.
 * @since 0.1.0
 */
export interface PluginInit<D extends ServiceDeps, O extends ServiceDeps = Record<never, never>> {
  /** The services the init needs, by name. */
  readonly deps: D;
  /**
   * Services the init uses when some plugin provides them, by name: `undefined` otherwise (boot
   * does not fail). For features that another plugin completes, e.g. projects for replication.
   * @since 0.2.0
   */
  readonly optionalDeps?: O;
  /** Runs once per boot with the resolved services. A throw stops boot and names the plugin. */
  init(deps: ResolvedDeps<D> & { readonly [K in keyof O]: ServiceOf<O[K]> | undefined }): Promise<void> | void;
}

/**
 * A plugin's migrations: the list, or a function of the dialect giving it (for SQL that differs
 * between SQLite, PostgreSQL and MySQL). Oldest first; append, never edit one that shipped.
 * @since 0.1.0
 */
export type PluginMigrations = readonly PluginMigration[] | ((dialect: DatabaseDialect) => readonly PluginMigration[]);

const ID = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/**
 * Declares a plugin. Checks the declaration's shape at once, so a broken plugin fails when its
 * module is imported, with a message naming it.
 * @since 0.1.0
 */
export function definePlugin<S extends TSchema>(definition: PluginDefinition<S>): WharfPlugin<S> {
  const where = `plugin "${String(definition?.id)}"`;
  if (!definition || typeof definition !== 'object') throw new TypeError('definePlugin needs a definition object');
  if (typeof definition.id !== 'string' || !ID.test(definition.id)) throw new TypeError(`${where}: id must be kebab-case`);
  if (!(PLUGIN_KINDS as readonly string[]).includes(definition.kind)) {
    throw new TypeError(`${where}: kind must be one of ${PLUGIN_KINDS.join(', ')}`);
  }
  if (typeof definition.version !== 'string' || !definition.version) throw new TypeError(`${where}: version is required`);
  if (typeof definition.kernel !== 'string' || !definition.kernel) throw new TypeError(`${where}: kernel range is required`);
  if (!definition.configSchema || typeof definition.configSchema !== 'object') throw new TypeError(`${where}: configSchema is required`);
  if (typeof definition.register !== 'function') throw new TypeError(`${where}: register must be a function`);
  if (definition.cli !== undefined && (!Array.isArray(definition.cli) || definition.cli.some((g) => typeof g?.name !== 'string' || !Array.isArray(g.commands)))) {
    throw new TypeError(`${where}: cli must be a list of command groups ({ name, description, commands })`);
  }
  return Object.freeze({ ...definition, $$type: 'wharf/Plugin', apiVersion: 1 } as const);
}

/** True for a value made by {@link definePlugin} (of any copy of the SDK). */
export function isWharfPlugin(value: unknown): value is WharfPlugin {
  return typeof value === 'object' && value !== null && (value as { $$type?: unknown }).$$type === 'wharf/Plugin';
}
