import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  coreServices,
  isKernelError,
  KernelError,
  type KernelHooks,
  type KernelSettings,
  type LogSinkStats,
  type ScopedRouter,
  type ServiceRef,
  type StorageDriver,
} from '@wharf/sdk';
import type { DestinationStream, Logger } from 'pino';
import { ServiceRegistry } from '../container/service-registry.js';
import type { DatabaseSettings, LoadedConfig, WharfConfig } from '../config/types.js';
import { createHooks, hasTaps, observe, pluginOfError } from '../hooks/index.js';
import { createRootLogger, usePretty } from '../logging/logger.js';
import { createKernelAuth, type KernelAuth } from '../auth/kernel-auth.js';
import { createTokenAuth, type TokenAuth } from '../auth/token-auth.js';
import { createJobRuntime, loadJobBackend, type JobRuntime } from '../jobs/index.js';
import { createEventsRuntime, type EventsRuntime } from '../events/events-runtime.js';
import { loginRecorder, loginVia } from '../events/login-events.js';
import { accessDenialRecorder, type AccessDenialRecorder } from '../events/access-denials.js';
import { timedStorage } from './timed-storage.js';
import { createContentServices, type ContentServices } from '../content/index.js';
import { createDatabaseService, createMetadataStore, createOwnerMigrator, type KnexMetadataStore } from '../metadata/index.js';
import type { DatabaseConfig, MetadataStore } from '../metadata/types.js';
import { recordPullsSqlite } from '../metadata/pulls.js';
import { KERNEL_VERSION } from '../version.js';
import { formatBootTree, type BootPhase, type BootRecord } from './boot-tree.js';
import { callRegister, createPluginContext, ownKernelError } from './plugin-context.js';
import { kernelRefs } from './kernel-refs.js';
import { checkInitDeps, runInits, runPluginMigrations, runReadyTaps, withTimeout, type DeclaredPlugin } from './plugin-start.js';
import { registerKernelOperations } from '../http/api/kernel-operations.js';
import { OperationRegistry } from '../http/api/operation-registry.js';
import { registerEventOperations } from '../events/api.js';
import { registerJobOperations } from '../jobs/api.js';
import { recordConfigChanges } from '../config/config-changes.js';
import { openSecretBox, type SecretBox } from '../secrets/secret-box.js';
import { createReplicationTargets } from '../hooks/replication-targets.js';

/**
 * The kernel: register, then run, then seal. `createKernel` only wires things; `boot()` calls
 * each plugin's synchronous `register`, checks the service graph, builds every singleton,
 * checks storage and database, runs the kernel's and the plugins' migrations, each plugin's
 * init, then `lifecycle.ready`, and seals the hooks. Any failure stops the boot with an error
 * that names the plugin.
 */


export type KernelState = 'created' | 'booting' | 'ready' | 'closing' | 'closed' | 'failed';

export interface KernelOptions {
  /** Use this root logger instead of building one from `log`. */
  readonly logger?: Logger | undefined;
  /** Where log lines go when the kernel builds its logger (tests capture them). */
  readonly logDestination?: DestinationStream | NodeJS.WritableStream | undefined;
  /**
   * Start the job workers once ready (default true). CLI commands that only enqueue or read
   * jobs pass false: the registry's nodes run them.
   */
  readonly runJobs?: boolean | undefined;
}

export interface Kernel {
  readonly version: string;
  readonly config: WharfConfig;
  readonly loaded: LoadedConfig;
  readonly hooks: KernelHooks;
  readonly logger: Logger;
  readonly settings: KernelSettings;
  readonly services: ServiceRegistry;
  /** Management API operations added by the kernel and plugins (sealed after registration). */
  readonly api: OperationRegistry;
  /** The one authenticator and `auth.active` check, shared by `/service/token`, `/v2/` and `/api/v1`. */
  readonly auth: KernelAuth;
  readonly state: KernelState;
  /** Per-plugin registration records (after boot). */
  readonly bootRecords: readonly BootRecord[];
  /** Extension routes declared with `ctx.routes`, by plugin id, in plugin order (after boot). */
  readonly extensionRoutes: readonly { readonly plugin: string; readonly mount: (router: ScopedRouter) => void }[];
  boot(): Promise<void>;
  /**
   * `wharf migrate`: registers the plugins, runs the kernel's and every plugin's migrations
   * (whatever `database.migrate` says), builds nothing else and leaves the kernel closed.
   */
  migrate(): Promise<void>;
  /**
   * `wharf config check`: calls every plugin's register() and checks the service graph as boot
   * would, touching no file, database or network; leaves the kernel closed.
   */
  check(): Promise<void>;
  close(): Promise<void>;
  /** The storage driver (after boot). */
  storage(): StorageDriver;
  /** The metadata store (after boot). */
  metadata(): MetadataStore;
  resolve<T>(ref: ServiceRef<T>): T;
  /** Docker token auth (after boot), or `undefined` when `token.enabled` is false. */
  tokenAuth(): TokenAuth | undefined;
  /** Sets the public URL once the real port is known (listen on port 0). */
  setPublicUrl(url: string): void;
  /** Durable events: the service plugins get, the registry's recorder, this node's delivery loop. */
  readonly events: EventsRuntime;
  /** Records refused access (`auth.access.denied`), aggregated per actor, address and operation. */
  readonly accessDenied: AccessDenialRecorder;
}

export function toDatabaseConfig(db: DatabaseSettings): DatabaseConfig {
  if (db.client === 'sqlite') return { client: 'sqlite', filename: db.filename };
  return {
    client: db.client,
    connection: db.connection as string | Record<string, unknown>,
    ...(db.pool === undefined ? {} : { pool: { ...db.pool } }),
  };
}

function wrapStep(code: 'REG_ERR_STORAGE' | 'REG_ERR_DATABASE', what: string, err: unknown, plugin?: string): KernelError {
  if (isKernelError(err)) return ownKernelError(err, plugin ?? pluginOfError(err)?.plugin);
  const culprit = plugin ?? pluginOfError(err)?.plugin;
  const who = culprit ? `plugin "${culprit}": ` : '';
  return new KernelError(code, `${who}${what}: ${(err as Error)?.message ?? String(err)}`, { ...(culprit ? { plugin: culprit } : {}), cause: err });
}

export function createKernel(loaded: LoadedConfig, options: KernelOptions = {}): Kernel {
  const config = loaded.config;
  const root = options.logger
    ? undefined
    : createRootLogger({
        level: config.log.level,
        format: config.log.format,
        secrets: loaded.secrets,
        destination: options.logDestination,
        sinks: config.log.sinks,
        baseDir: loaded.baseDir,
      });
  const logger = options.logger ?? (root as { logger: Logger }).logger;
  const logSinks: LogSinkStats = root?.router ?? { getDroppedCount: () => 0, stats: () => [] };
  const hooks = createHooks({ logger });
  const services = new ServiceRegistry();
  // Everyone but the storage plugin itself sees the driver timed (`storage.operationFinished`).
  services.decorate(coreServices.storage, (driver) => timedStorage(driver, hooks.storage, logger));
  const recordLogin = loginRecorder(() => events.service, logger.child({ component: 'auth' }));
  const accessDenied = accessDenialRecorder(() => (state === 'ready' || state === 'closing' ? events.service : undefined), config.log.deniedAccess, logger.child({ component: 'auth' }));
  // Management API operations from the kernel and plugins, served by the HTTP layer.
  const api = new OperationRegistry();
  const auth = createKernelAuth({
    hooks: hooks.auth,
    settings: config.token,
    logger: logger.child({ component: 'auth' }),
    database: () => services.resolve(coreServices.database).knex,
    onLogin: (login, info) => {
      observe(hooks.auth.loginAttempted, () => ({ ok: login.ok, provider: login.principal?.provider, via: loginVia(info.path) }), logger);
      return recordLogin(login, info);
    },
  });
  let publicUrl = config.server.publicUrl;
  const settings: KernelSettings = Object.freeze({
    get dataDir() {
      return config.dataDir;
    },
    get publicUrl() {
      return publicUrl;
    },
  });

  let state: KernelState = 'created';
  let hooksSealed = false;
  let provideSealed = false;
  const records: BootRecord[] = [];
  const declaredPlugins: DeclaredPlugin[] = [];
  const extensionRoutes: { plugin: string; mount: (router: ScopedRouter) => void }[] = [];
  let closing: Promise<void> | undefined;
  let tokenAuth: TokenAuth | undefined;

  // Kernel services, provided like any plugin's so plugins can depend on them by ref.
  services.provide('kernel', coreServices.logger, { factory: () => logger });
  services.provide('kernel', coreServices.logSinks, { factory: () => logSinks });
  services.provide('kernel', coreServices.settings, { factory: () => settings });
  services.provide('kernel', kernelRefs.metadata, {
    factory: () => createMetadataStore(toDatabaseConfig(config.database), logger),
    dispose: (m) => m.close(),
  });
  // Plugins' tables live in the same database, through the metadata store's pool.
  services.provide('kernel', coreServices.database, {
    deps: { metadata: kernelRefs.metadata },
    factory: ({ metadata }) => createDatabaseService(metadata.knex),
  });
  // Jobs: types are defined during register/init/ready, workers start after ready (see boot/close).
  services.provide('kernel', kernelRefs.jobs, {
    deps: { metadata: kernelRefs.metadata },
    factory: ({ metadata }) =>
      createJobRuntime({ settings: config.jobs, logger, knex: () => metadata.knex, observe: (attempt) => observe(hooks.jobs.attemptFinished, () => attempt, logger) }),
    dispose: (jobs) => jobs.stop(),
  });
  services.provide('kernel', coreServices.jobs, { deps: { jobs: kernelRefs.jobs }, factory: ({ jobs }) => jobs });
  // Consumers subscribe during register; the delivery loop starts with the job workers.
  const events = createEventsRuntime({
    knex: () => services.resolve(coreServices.database).knex,
    settings: config.events,
    logger,
    // Pull times ride on the pull events' group commit: one transaction per batch of pulls.
    pullTimes: (pulls, trx) => services.resolve(kernelRefs.metadata).recordPulls(pulls, trx),
    pullTimesSqlite: recordPullsSqlite,
  });
  services.provide('kernel', coreServices.events, { factory: () => events.service });
  services.provide('kernel', coreServices.repositories, {
    deps: { metadata: kernelRefs.metadata },
    factory: ({ metadata }) =>
      Object.freeze({ list: (namespace: string, page: { page: number; pageSize: number }) => metadata.listNamespaceRepositories(namespace, page) }),
  });
  // Content services for lifecycle plugins: one set over the metadata store, storage and hooks.
  services.provide('kernel', kernelRefs.content, {
    deps: { metadata: kernelRefs.metadata, storage: coreServices.storage },
    factory: ({ metadata, storage }): ContentServices =>
      createContentServices({ metadata, storage, hooks, logger: logger.child({ component: 'content' }), registry: config.registry, recorder: events }),
  });
  const fromContent = <K extends keyof ContentServices>(key: K) => ({ deps: { all: kernelRefs.content }, factory: ({ all }: { all: ContentServices }) => all[key] });
  services.provide('kernel', coreServices.artifacts, fromContent('artifacts'));
  services.provide('kernel', coreServices.blobs, fromContent('blobs'));
  services.provide('kernel', coreServices.uploads, fromContent('uploads'));
  services.provide('kernel', coreServices.content, fromContent('content'));
  // The kernel's own management API operations (the caller, system info), before any plugin's.
  registerKernelOperations(api.viewFor('kernel'), {
    version: KERNEL_VERSION,
    publicUrl: () => publicUrl,
    token: () => (tokenAuth ? { realm: tokenAuth.realm, service: tokenAuth.service } : undefined),
  });
  registerEventOperations(api.viewFor('kernel'), events);
  registerJobOperations(api.viewFor('kernel'), () => services.resolve(coreServices.jobs));
  // The deployment's secret box, opened in boot before any singleton is built.
  let secretBox: SecretBox | undefined;
  services.provide('kernel', coreServices.secrets, {
    factory: () => {
      if (!secretBox) throw new KernelError('REG_ERR_KERNEL_STATE', 'the secret box is opened before services are built');
      return secretBox;
    },
  });
  // Replication adapters for the engine: only the kernel calls its hooks.
  // Web UI contributions, known once every plugin registered (the UI plugin serves them).
  services.provide('kernel', coreServices.uiContributions, {
    factory: () => {
      const all = Object.freeze(declaredPlugins.flatMap((p) => p.declared.ui ?? []));
      return Object.freeze({ list: () => all });
    },
  });
  services.provide('kernel', coreServices.replicationTargets, { factory: () => createReplicationTargets(hooks.replication, logger.child({ component: 'replication' })) });

  function registerPlugins(): void {
    for (const [order, lp] of loaded.plugins.entries()) {
      const { plugin } = lp;
      const ctx = createPluginContext(lp, { hooks, services, logger, settings, api, order, events: events.service }, {
        hooksSealed: () => hooksSealed,
        provideSealed: () => provideSealed,
      });
      const t0 = performance.now();
      callRegister(lp, ctx);
      declaredPlugins.push({ id: plugin.id, kind: plugin.kind, declared: ctx.declared });
      const record: BootRecord = { plugin: plugin.id, kind: plugin.kind, version: plugin.version, ms: performance.now() - t0, source: lp.source, provides: [...ctx.provided] };
      records.push(record);
      logger.info({ plugin: record.plugin, kind: record.kind, version: record.version, ms: Math.round(record.ms * 100) / 100 }, 'plugin registered');
    }
  }

  function checkStorage(): void {
    const provider = services.providerOf(coreServices.storage);
    const storagePlugin = loaded.plugins.find((p) => p.plugin.kind === 'storage');
    if (!provider) {
      const name = storagePlugin ? `storage plugin "${storagePlugin.plugin.id}"` : 'no storage plugin';
      throw new KernelError('REG_ERR_SERVICE_MISSING', `${name} did not provide ${coreServices.storage.id}`, storagePlugin ? { plugin: storagePlugin.plugin.id } : {});
    }
    const owner = loaded.plugins.find((p) => p.plugin.id === provider && p.plugin.kind === 'storage');
    if (!owner) {
      throw new KernelError('REG_ERR_SERVICE_DUPLICATE', `${coreServices.storage.id} must be provided by the storage plugin, not by "${provider}"`, { plugin: provider });
    }
  }

  /** One route prefix per plugin: two plugins of different kinds may share an id. */
  function checkRoutes(): void {
    for (const p of declaredPlugins) {
      const mount = p.declared.routes;
      if (!mount) continue;
      if (extensionRoutes.some((r) => r.plugin === p.id)) {
        throw new KernelError('REG_ERR_PLUGIN_DUPLICATE', `two plugins with the id "${p.id}" declare routes under /_ext/${p.id}`, { plugin: p.id });
      }
      extensionRoutes.push({ plugin: p.id, mount });
    }
  }

  async function makeDirectories(): Promise<void> {
    // Not readable by other local users, as the database and keys already are.
    await mkdir(config.dataDir, { recursive: true, mode: 0o750 });
    if (config.database.client === 'sqlite' && config.database.filename !== ':memory:') {
      await mkdir(path.dirname(config.database.filename), { recursive: true });
    }
  }

  /** Every plugin's register() and the checks of the service graph; no I/O. */
  function checkRegistration(): void {
    registerPlugins();
    provideSealed = true;
    checkStorage();
    checkRoutes();
    services.checkDependencies();
    checkInitDeps(declaredPlugins, (ref) => services.providerOf(ref));
  }

  /** `wharf config check`: registers the plugins as boot would, builds nothing, leaves the kernel closed. */
  async function checkOnly(): Promise<void> {
    if (state !== 'created') throw new KernelError('REG_ERR_KERNEL_STATE', `kernel cannot check: it is ${state}`);
    state = 'booting';
    try {
      checkRegistration();
    } finally {
      state = 'closed';
      hooksSealed = true;
      await services.dispose();
    }
  }

  async function migrateOnly(): Promise<void> {
    if (state !== 'created') throw new KernelError('REG_ERR_KERNEL_STATE', `kernel cannot migrate: it is ${state}`);
    state = 'booting';
    try {
      registerPlugins();
      provideSealed = true;
      await makeDirectories();
      const metadata = services.resolve(kernelRefs.metadata);
      try {
        await metadata.migrate();
      } catch (err) {
        throw wrapStep('REG_ERR_DATABASE', `database (${config.database.client}) migrations failed`, err);
      }
      await migratePlugins(metadata);
      logger.info({ client: config.database.client, plugins: declaredPlugins.filter((p) => p.declared.migrations).map((p) => p.id) }, 'migrations applied');
    } finally {
      state = 'closed';
      hooksSealed = true;
      await services.dispose();
    }
  }

  async function migratePlugins(metadata: KnexMetadataStore): Promise<void> {
    const migrator = createOwnerMigrator(metadata.knex, logger.child({ component: 'database' }));
    await runPluginMigrations(declaredPlugins, migrator, createDatabaseService(metadata.knex).dialect);
  }

  async function timed(phases: BootPhase[], phase: string, fn: () => Promise<void>): Promise<void> {
    const t0 = performance.now();
    await fn();
    phases.push({ phase, ms: performance.now() - t0 });
  }

  async function boot(): Promise<void> {
    if (state !== 'created') throw new KernelError('REG_ERR_KERNEL_STATE', `kernel cannot boot: it is ${state}`);
    state = 'booting';
    const t0 = performance.now();
    const phases: BootPhase[] = [];
    try {
      // Registration and the graph checks touch nothing: a plugin refusing its settings fails
      // the boot before any directory, key or table is created.
      checkRegistration();
      await makeDirectories();
      // coreServices.secrets needs it; opening may create the key file.
      secretBox = await openSecretBox({ key: config.secretKey, dataDir: config.dataDir }).catch((err: unknown) => {
        throw new KernelError('REG_ERR_CONFIG_INVALID', `secretKey: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      });
      await loadJobBackend(config.jobs);
      services.resolveSingletons();
      const storage = services.resolve(coreServices.storage);
      const storageOwner = services.providerOf(coreServices.storage) ?? 'storage';
      const metadata = services.resolve(kernelRefs.metadata);
      const timeoutMs = config.server.bootTimeoutMs;
      await timed(phases, `storage ${storage.name} health check`, () =>
        withTimeout(() => storage.healthCheck(), timeoutMs, storageOwner, 'storage health check').catch((err: unknown) => {
          throw wrapStep('REG_ERR_STORAGE', 'storage health check failed', err, storageOwner);
        }),
      );
      await timed(phases, `database ${config.database.client}`, async () => {
        try {
          await metadata.ping();
          if (config.database.migrate) await metadata.migrate();
        } catch (err) {
          throw wrapStep('REG_ERR_DATABASE', `database (${config.database.client}) not usable`, err);
        }
        // Plugins' declared migrations, in plugin order, before any init can use their tables.
        if (config.database.migrate) await migratePlugins(metadata);
      });
      if (config.token.enabled) {
        await timed(phases, 'token keys', async () => {
          tokenAuth = await createTokenAuth({
            settings: config.token,
            hooks,
            auth,
            logger: logger.child({ component: 'token' }),
            publicUrl: () => publicUrl,
            dataDir: config.dataDir,
            baseDir: loaded.baseDir,
          }).catch((err: unknown) => {
            if (isKernelError(err)) throw ownKernelError(err);
            throw new KernelError('REG_ERR_CONFIG_INVALID', `token: cannot set up the signing keys: ${(err as Error)?.message ?? String(err)}`, { cause: err });
          });
        });
      }
      await timed(phases, 'plugin inits', () => runInits(declaredPlugins, (ref) => services.resolve(ref), timeoutMs, (ref) => services.providerOf(ref) !== undefined));
      // Inits may add API operations; the routes are compiled once they all ran.
      api.seal();
      // The retention job is a job type like any other: declared before the workers start.
      events.install(services.resolve(coreServices.jobs));
      // Plugin sink types were tapped in register or init; lines logged so far wait in their queues.
      root?.router.attachPluginSinks((type, entry, context) => {
        try {
          return hooks.logging.sink.get(type)?.call(entry, context);
        } catch (err) {
          const plugin = pluginOfError(err)?.plugin;
          if (isKernelError(err)) throw ownKernelError(err, plugin);
          throw new KernelError('REG_ERR_CONFIG_INVALID', `${context.path}: the ${type} sink refused its options: ${(err as Error)?.message ?? String(err)}`, { ...(plugin ? { plugin } : {}), cause: err });
        }
      });
      await timed(phases, 'lifecycle.ready', () => runReadyTaps(hooks.lifecycle.ready, timeoutMs));
      hooksSealed = true;
      // Workers start only once every plugin is ready: no handler runs against a half-booted kernel.
      if (options.runJobs !== false) {
        await services.resolve(kernelRefs.jobs).start().catch((err: unknown) => {
          throw new KernelError('REG_ERR_JOBS_BACKEND', `jobs (${config.jobs.backend}) could not start: ${(err as Error)?.message ?? String(err)}`, { cause: err });
        });
        await events.start(services.resolve(coreServices.jobs));
      }
      // A changed wharf.yaml shows in the audit log: key paths only, never values.
      await recordConfigChanges(config, services.resolve(coreServices.database), events.service).then(
        (change) => change && logger.info({ changed: change.changed, added: change.added, removed: change.removed }, 'configuration changed since the last boot'),
        (err: unknown) => logger.warn({ err }, 'could not compare the configuration with the last boot\'s'),
      );
      state = 'ready';
      if (!hasTaps(hooks.auth.authenticate) && !hasTaps(hooks.rbac.authorize)) {
        logger.warn('no auth or rbac plugin is configured: the registry is open, anyone may push, pull and delete');
      }
      const total = performance.now() - t0;
      logger.info({ version: KERNEL_VERSION, ms: Math.round(total), plugins: records.length }, 'kernel ready');
      if (usePretty(config.log.format) && !options.logger) logger.info(`boot tree\n${formatBootTree(KERNEL_VERSION, records, phases, total)}`);
    } catch (err) {
      state = 'failed';
      hooksSealed = true;
      provideSealed = true;
      await services.dispose().catch((e: unknown) => logger.warn({ err: e }, 'cleanup after failed boot'));
      throw err;
    }
  }

  async function doClose(): Promise<void> {
    const wasReady = state === 'ready';
    state = 'closing';
    if (wasReady) {
      // Event deliveries and jobs first: handlers may use what plugins close below, and the
      // database is still open. Refusals counted in the current window are recorded first.
      await accessDenied.close();
      try {
        await events.stop();
      } catch (err) {
        logger.error({ err }, 'stopping event delivery failed');
      }
      try {
        await services.resolve(kernelRefs.jobs).stop();
      } catch (err) {
        logger.error({ err }, 'stopping jobs failed');
      }
      try {
        await hooks.lifecycle.close.promise();
      } catch (err) {
        logger.error({ err, plugin: pluginOfError(err)?.plugin }, 'lifecycle.close failed');
      }
    }
    try {
      await services.dispose();
    } catch (err) {
      logger.error({ err }, 'disposing services failed');
    }
    state = 'closed';
    logger.info('kernel closed');
    await root?.router.close();
  }

  const kernel: Kernel = {
    version: KERNEL_VERSION,
    config,
    loaded,
    hooks,
    logger,
    settings,
    services,
    api,
    auth,
    events,
    accessDenied,
    get state() {
      return state;
    },
    bootRecords: records,
    extensionRoutes,
    boot,
    migrate: migrateOnly,
    check: checkOnly,
    close() {
      if (state === 'created' || state === 'failed') {
        // A failed boot already disposed what it had built.
        const dispose = state === 'created' ? services.dispose() : Promise.resolve();
        state = 'closed';
        return dispose;
      }
      closing ??= doClose();
      return closing;
    },
    storage: () => services.resolve(coreServices.storage),
    metadata: () => services.resolve(kernelRefs.metadata),
    resolve: (ref) => services.resolve(ref),
    tokenAuth: () => tokenAuth,
    setPublicUrl(url) {
      publicUrl = url.replace(/\/+$/, '');
    },
  };
  return kernel;
}
