import { createHooks, createOwnerMigrator, createPluginHooks, migrationOwner } from '@wharf/core';
import { coreServices, uiContributionProblem, type UiContribution, type BatchDeliveryContext, type KernelHooks, type LogSinkCounters, type PluginInit, type PluginMigrations, type ServiceDeps, type ServiceFactory, type ServiceRef, type StorageDriver, type WharfPlugin } from '@wharf/sdk';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import type { CapturedLogs } from './logs.js';
import { mockServices, type MockDatabase, type MockJobs, type MockSettings } from './mock-services.js';

/**
 * One plugin run without a kernel: its config checked against its own schema, `register(ctx)`
 * called with a real hook catalogue, its services built from {@link mockServices}, then
 * `lifecycle.ready`. For unit tests of a plugin's own logic; `createTestKernel` is the real
 * kernel when the test is about how the plugin fits in it.
 */

/**
 * Options of {@link startTestPlugin}.
 * @since 0.1.0
 */
export interface TestPluginOptions {
  /** The plugin's config section; its schema's defaults are applied. Default `{}`. */
  readonly config?: unknown;
  /** Counters `coreServices.logSinks` reports (default none). */
  readonly logSinks?: readonly LogSinkCounters[] | undefined;
  /** Repository names `coreServices.repositories` lists. */
  readonly repositories?: readonly string[] | undefined;
  /** A storage driver instead of the in-memory one. */
  readonly storage?: StorageDriver | undefined;
}

/**
 * What {@link startTestPlugin} returns.
 * @since 0.1.0
 */
export interface TestPlugin {
  /** The hook catalogue the plugin tapped, callable: `hooks.auth.authenticate.promise(...)`. */
  readonly hooks: KernelHooks;
  /** A service the plugin provides, or a mocked kernel service, by its ref. */
  get<T>(ref: ServiceRef<T>): T;
  /** Every line the plugin and the mocked services logged. */
  readonly logs: CapturedLogs;
  readonly settings: MockSettings;
  /** Management API operations the plugin added, by operationId. */
  readonly operations: readonly string[];
  /** The web UI contributions the plugin declared (`ctx.ui.contribute`), checked as the kernel checks them. @since 0.2.0 */
  readonly uiContributions: readonly UiContribution[];
  /** Runs `lifecycle.close`, stops jobs, disposes services, removes the database and data dir. */
  close(): Promise<void>;
}

interface Built {
  readonly ref: ServiceRef<unknown>;
  readonly factory: ServiceFactory<unknown, ServiceDeps>;
  instance?: unknown;
}

/**
 * Registers and readies `plugin` on mocked kernel services.
 * @example
 * const plugin = await startTestPlugin(authDbPlugin, { config: { passwordPolicy: { minLength: 12 } } });
 * await plugin.get(authDbUsersRef).create('alice', 'Long-Passw0rd-1');
 * await plugin.close();
 * @since 0.1.0
 */
export async function startTestPlugin(plugin: WharfPlugin, options: TestPluginOptions = {}): Promise<TestPlugin> {
  const config = Value.Default(plugin.configSchema, structuredClone(options.config ?? {}));
  if (!Value.Check(plugin.configSchema, config)) {
    const first = [...Value.Errors(plugin.configSchema, config)][0];
    throw new TypeError(`plugin "${plugin.id}": config ${first?.path || '/'} ${first?.message ?? 'is invalid'}`);
  }
  const logs = mockServices.logger.factory();
  const settings = await mockServices.settings.factory();
  const hooks = createHooks({ logger: logs.logger });
  let sealed = false;
  let database: MockDatabase | undefined;
  let jobs: MockJobs | undefined;
  const provided: Built[] = [];
  const operations: string[] = [];
  const uiContributions: UiContribution[] = [];
  const kernelValues = new Map<string, unknown>([
    [coreServices.logger.id, logs.logger],
    [coreServices.settings.id, settings],
    [coreServices.storage.id, options.storage ?? mockServices.storage.factory()],
    [coreServices.repositories.id, mockServices.repositories.factory(options.repositories)],
    [coreServices.logSinks.id, mockServices.logSinks.factory(options.logSinks)],
    // The plugin's own UI contributions, as the kernel would list them (filled during register).
    [coreServices.uiContributions.id, Object.freeze({ list: () => uiContributions.map((c) => ({ plugin: plugin.id, directory: c.directory instanceof URL ? fileURLToPath(c.directory) : c.directory, module: c.module, slots: c.slots })) })],
  ]);

  // Durable events on the mock database (made when first needed); delivered from ready on.
  const events = mockServices.events.factory({ database: () => database!, logger: logs.logger });

  // The database and jobs are made only when something depends on them.
  async function kernelService(ref: ServiceRef<unknown>): Promise<unknown> {
    if (kernelValues.has(ref.id)) return kernelValues.get(ref.id);
    if (ref.id === coreServices.events.id) {
      await kernelService(coreServices.database);
      kernelValues.set(ref.id, events.service);
      return events.service;
    }
    if (ref.id === coreServices.database.id || ref.id === coreServices.jobs.id) {
      database ??= await mockServices.database.factory({ logger: logs.logger });
      kernelValues.set(coreServices.database.id, database);
      if (ref.id === coreServices.jobs.id) {
        jobs = mockServices.jobs.factory({ database, logger: logs.logger });
        kernelValues.set(ref.id, jobs);
      }
      return kernelValues.get(ref.id);
    }
    throw new TypeError(`plugin "${plugin.id}" needs service "${ref.id}", which neither the plugin nor mockServices provides`);
  }

  async function resolve(ref: ServiceRef<unknown>, path: readonly string[]): Promise<unknown> {
    const own = provided.find((p) => p.ref.id === ref.id);
    if (!own) return kernelService(ref);
    if ('instance' in own) return own.instance;
    if (path.includes(ref.id)) throw new TypeError(`services depend on each other in a cycle: ${[...path, ref.id].join(' -> ')}`);
    const deps: Record<string, unknown> = {};
    for (const [name, dep] of Object.entries(own.factory.deps ?? {})) deps[name] = await resolve(dep, [...path, ref.id]);
    own.instance = own.factory.factory(deps as never);
    return own.instance;
  }

  // What register declared besides services: the init, migrations and routes (not mounted here).
  let init: PluginInit<ServiceDeps> | undefined;
  let migrations: PluginMigrations | undefined;
  let hooksSealed = false;
  plugin.register({
    id: plugin.id,
    config: Object.freeze(config) as never,
    logger: logs.logger.child({ plugin: plugin.id }),
    settings,
    hooks: createPluginHooks(hooks, plugin.id, () => hooksSealed),
    api: { operation: (op: { readonly operationId: string }) => void operations.push(op.operationId) } as never,
    events: {
      subscribe: (consumer) => {
        // Deps resolved as the kernel does: built on the first delivery.
        let resolved: Record<string, unknown> | undefined;
        const { deps, ...rest } = consumer;
        const built = async (): Promise<never> => {
          if (!resolved) {
            const services: Record<string, unknown> = {};
            for (const [name, ref] of Object.entries(deps ?? {})) services[name] = await resolve(ref, []);
            resolved = services;
          }
          return resolved as never;
        };
        const handleBatch = consumer.handleBatch?.bind(consumer);
        events.service.subscribe({
          ...rest,
          handle: async (delivery) => consumer.handle(delivery, await built()),
          ...(handleBatch ? { handleBatch: async (batch: BatchDeliveryContext) => handleBatch(batch, await built()) } : {}),
        });
      },
    },
    registerInit: (declared) => {
      if (sealed || init) throw new TypeError(`plugin "${plugin.id}" declared its init twice or after register`);
      init = declared as PluginInit<ServiceDeps>;
    },
    migrations: (declared) => {
      if (sealed || migrations) throw new TypeError(`plugin "${plugin.id}" declared its migrations twice or after register`);
      migrations = declared;
    },
    routes: () => {
      if (sealed) throw new TypeError(`plugin "${plugin.id}" declared routes after register`);
    },
    ui: {
      contribute: (contribution) => {
        if (sealed) throw new TypeError(`plugin "${plugin.id}" contributed UI after register`);
        const problem = uiContributionProblem(contribution);
        if (problem) throw new TypeError(`plugin "${plugin.id}": ui.contribute(): ${problem}`);
        uiContributions.push(contribution);
      },
    },
    provide: (ref, factory) => {
      if (sealed) throw new TypeError(`plugin "${plugin.id}" provided "${ref.id}" after register`);
      if (provided.some((p) => p.ref.id === ref.id)) throw new TypeError(`plugin "${plugin.id}" provides "${ref.id}" twice`);
      provided.push({ ref, factory: factory as ServiceFactory<unknown, ServiceDeps> });
    },
  });
  sealed = true;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await events.stop();
      await jobs?.stop();
      await hooks.lifecycle.close.promise();
      for (const p of [...provided].reverse()) if ('instance' in p) await p.factory.dispose?.(p.instance);
      await database?.close();
      await settings.cleanup();
    })());
  try {
    // As the kernel does at boot: every singleton is built, the plugin's migrations run, then its
    // init with its resolved deps, then ready; a missing dependency fails here.
    for (const p of provided) await resolve(p.ref, []);
    if (migrations) {
      const db = (await kernelService(coreServices.database)) as MockDatabase;
      const list = typeof migrations === 'function' ? migrations(db.dialect) : migrations;
      await createOwnerMigrator(db.knex, logs.logger).migrate(migrationOwner(plugin), list);
    }
    if (init) {
      const deps: Record<string, unknown> = {};
      for (const [name, ref] of Object.entries(init.deps)) deps[name] = await resolve(ref, []);
      await init.init(deps as never);
    }
    hooksSealed = true;
    await hooks.lifecycle.ready.promise();
    if (events.subscriptions.all().length > 0) await kernelService(coreServices.jobs);
    if (jobs) events.install(jobs);
    await jobs?.start();
    if (jobs) await events.start(jobs);
  } catch (err) {
    await close();
    throw err;
  }
  const get = <T>(ref: ServiceRef<T>): T => {
    const own = provided.find((p) => p.ref.id === ref.id);
    if (own && 'instance' in own) return own.instance as T;
    if (kernelValues.has(ref.id)) return kernelValues.get(ref.id) as T;
    throw new TypeError(`no service "${ref.id}" in this test plugin`);
  };
  return Object.freeze({ hooks, get, logs, settings, operations, uiContributions, close });
}
