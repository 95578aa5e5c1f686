import type { Logger } from 'pino';
import type { ArtifactService, BlobService, ContentService, UploadSessionService } from './content.js';
import type { DatabaseService } from './database.js';
import type { EventService } from './durable-events.js';
import type { JobService } from './jobs.js';
import type { LogSinkStats } from './logging.js';
import type { ReplicationTargetService } from './replication.js';
import type { SecretService } from './secrets.js';
import type { StorageDriver } from './storage.js';
import type { UiContributions } from './ui.js';

/**
 * Typed service references. A service has exactly one implementation per deployment, chosen by
 * config and provided by one plugin (or the kernel). Plugins refer to services through refs,
 * never through the container or string names.
 * @see docs/architecture/03-services.md
 * @since 0.1.0
 */

/**
 * A typed handle on a service. `TService` is the service interface.
 * (The type parameter is not named `T` like the phantom field: API Extractor cannot report an
 * interface whose member shares a type parameter's name, microsoft/rushstack#2834.)
 */
export interface ServiceRef<TService> {
  readonly $$type: 'wharf/ServiceRef';
  /** Unique id, `<owner>.<name>`, e.g. `core.storage`. Every service is one instance per kernel. */
  readonly id: string;
  /** Phantom field carrying the service type; never set. */
  readonly T?: TService;
}

/**
 * Creates a service ref. Services are singletons: built once at boot, disposed at close (what a
 * request needs to know, its principal and id, comes with the request, not from a service).
 */
export function createServiceRef<T>(options: { id: string }): ServiceRef<T> {
  if (!/^[a-z][a-z0-9-]*\.[a-zA-Z][a-zA-Z0-9-]*$/.test(options.id)) {
    throw new TypeError(`service ref id must look like "<owner>.<name>", got "${options.id}"`);
  }
  return Object.freeze({ $$type: 'wharf/ServiceRef', id: options.id });
}

/** The service type behind a ref. */
export type ServiceOf<R> = R extends ServiceRef<infer T> ? T : never;

/** A map of dependency names to refs, and what a factory receives for it. */
export type ServiceDeps = Record<string, ServiceRef<unknown>>;
export type ResolvedDeps<D extends ServiceDeps> = { readonly [K in keyof D]: ServiceOf<D[K]> };

/**
 * How a plugin provides a service: a synchronous factory over typed dependencies and an
 * optional disposer called at shutdown. I/O belongs in `lifecycle.ready` taps or in the
 * service's own methods, not in the factory.
 */
export interface ServiceFactory<T, D extends ServiceDeps = ServiceDeps> {
  readonly deps?: D;
  factory(deps: ResolvedDeps<D>): T;
  dispose?(instance: T): void | Promise<void>;
}

/** Settings of the kernel every plugin may read. */
export interface KernelSettings {
  /** Absolute path of the data directory; plugins keep their files below it. */
  readonly dataDir: string;
  /** The externally visible base URL of the registry, e.g. `http://127.0.0.1:5000`. */
  readonly publicUrl: string;
}

/** The services every kernel has. */
export const coreServices = Object.freeze({
  /**
   * The one storage driver of the deployment, provided by a `storage` plugin.
   * @since 0.1.0
   */
  storage: createServiceRef<StorageDriver>({ id: 'core.storage' }),
  /**
   * The root pino logger (plugins get a child in `ctx.logger`).
   * @since 0.1.0
   */
  logger: createServiceRef<Logger>({ id: 'core.logger' }),
  /**
   * Kernel settings.
   * @since 0.1.0
   */
  settings: createServiceRef<KernelSettings>({ id: 'core.settings' }),
  /**
   * The deployment's database, for plugins' own tables: the metadata store's knex instance and a
   * per-plugin migrator. Provided by the kernel.
   * @since 0.1.0
   */
  database: createServiceRef<DatabaseService>({ id: 'core.database' }),
  /**
   * Read access to the registry's repositories, for plugins that group them (projects).
   * Provided by the kernel.
   * @since 0.1.0
   */
  repositories: createServiceRef<RepositoryIndex>({ id: 'core.repositories' }),
  /**
   * Durable background jobs (embedded in the database, or Redis). Provided by the kernel.
   * @since 0.1.0
   */
  jobs: createServiceRef<JobService>({ id: 'core.jobs' }),
  /**
   * Durable events: publish with the change, consume at least once. Provided by the kernel.
   * @since 0.2.0
   */
  events: createServiceRef<EventService>({ id: 'core.events' }),
  /**
   * Read access to repositories and artifacts: manifests, tags, referrers, sizes, push and pull
   * times, and which manifests reference a digest. Provided by the kernel.
   * @since 0.2.0
   */
  artifacts: createServiceRef<ArtifactService>({ id: 'core.artifacts' }),
  /**
   * Blobs: their records, links and references, their bytes, and the unreferenced ones (for
   * garbage collection). Provided by the kernel.
   * @since 0.2.0
   */
  blobs: createServiceRef<BlobService>({ id: 'core.blobs' }),
  /**
   * Upload sessions: the stale ones, and cancelling them. Provided by the kernel.
   * @since 0.2.0
   */
  uploads: createServiceRef<UploadSessionService>({ id: 'core.uploads' }),
  /**
   * Writing content (blobs, manifests, deletes) with the same checks, policy gates and events as
   * a client push. Provided by the kernel.
   * @since 0.2.0
   */
  content: createServiceRef<ContentService>({ id: 'core.content' }),
  /**
   * Every plugin's web UI contributions (`ctx.ui.contribute`), for the plugin that serves the
   * UI. Provided by the kernel.
   * @since 0.2.0
   */
  uiContributions: createServiceRef<UiContributions>({ id: 'core.uiContributions' }),
  /**
   * The log sinks' counters (records written, dropped, queued per `log.sinks` entry), for
   * metrics. Provided by the kernel.
   * @since 0.2.0
   */
  logSinks: createServiceRef<LogSinkStats>({ id: 'core.logSinks' }),
  /**
   * Encrypts and decrypts small secrets with the deployment's key (endpoint credentials, webhook
   * secrets). Provided by the kernel, which opens the key at boot.
   * @since 0.2.0
   */
  secrets: createServiceRef<SecretService>({ id: 'core.secrets' }),
  /**
   * Opens `replication.target` adapters by endpoint type, for a replication engine (a plugin
   * cannot call the kernel's hooks). Provided by the kernel.
   * @since 0.2.0
   */
  replicationTargets: createServiceRef<ReplicationTargetService>({ id: 'core.replicationTargets' }),
});

/**
 * The repositories the registry holds, read from the metadata database.
 * @since 0.1.0
 */
export interface RepositoryIndex {
  /**
   * Repositories named `<namespace>/...` (any depth), in lexical order, one page of them with the
   * total count. `page` is 1-based.
   */
  list(namespace: string, page: { readonly page: number; readonly pageSize: number }): Promise<{ readonly items: readonly string[]; readonly total: number }>;
}

export type { Logger };
