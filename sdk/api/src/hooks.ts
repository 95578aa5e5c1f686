import type {
  AsyncParallelHook,
  AsyncSeriesBailHook,
  AsyncSeriesHook,
  AsyncSeriesWaterfallHook,
  HookMap,
  SyncBailHook,
  SyncHook,
} from 'tapable';
import type {
  ArtifactPulledEvent,
  BlobCommittedEvent,
  DeleteContext,
  ManifestDeletedEvent,
  ManifestPushedEvent,
  ManifestPutContext,
  PullContext,
  BlobCommitContext,
  BlobRequest,
  BlobSource,
  ManifestPreparation,
  ManifestRequest,
  UploadStartContext,
} from './events.js';
import type { HttpRequestFinished, HttpRequestStarted, JobAttempt, LoginAttempt, StorageOperation, TokenIssued } from './observations.js';
import type { AccessRequest, Credentials, Decision, Principal, RequestInfo } from './principal.js';
import type { ReplicationEndpoint, ReplicationStatusEvent, ReplicationTarget } from './replication.js';
import type { LogSink, LogSinkContext, LogSinkEntry } from './logging.js';

/**
 * The hook catalogue: every extension point of the kernel, in one frozen object per domain.
 * Only the kernel calls these hooks; plugins tap them through a tap-only view.
 *
 * Each hook states its tapable kind, its arguments, what a tap's result means, and who calls it.
 * `docs/reference/hooks.md` is generated from this file.
 *
 * @see docs/architecture/02-hooks.md
 * @since 0.1.0
 */

/** Identity hooks. */
export interface AuthHooks {
  /**
   * Turns credentials into a principal.
   * @kind AsyncSeriesBailHook
   * @args credentials, request
   * @result a `Principal` to accept the caller; `undefined` for "not mine, ask the next
   *   provider"; throw a `RegistryError('UNAUTHORIZED')` to reject credentials the provider owns.
   * @calledBy the token service and the `/v2/` Basic-auth path, with providers in config order.
   *   When no tap answers, Basic credentials are rejected and anonymous requests get the
   *   anonymous principal.
   * @since 0.1.0
   */
  readonly authenticate: AsyncSeriesBailHook<[Credentials, RequestInfo], Principal | undefined>;
  /**
   * Enriches an authenticated principal (groups, claims).
   * @kind AsyncSeriesWaterfallHook
   * @args principal, request
   * @result the principal, changed or not, passed to the next tap.
   * @calledBy the kernel, right after `authenticate` answered.
   * @since 0.1.0
   */
  readonly principal: AsyncSeriesWaterfallHook<[Principal, RequestInfo]>;
  /**
   * Asks whether a principal restored from a token (not from credentials) may still act: its
   * account may have been deleted, disabled or expired since the token was issued. The kernel
   * also asks about logins answered from its credential cache; a provider may compare the
   * principal's admin flag and claims with what it stores now.
   * @kind AsyncSeriesBailHook
   * @args principal
   * @result `true` (still active) or `false` (refuse the token) ends the chain; `undefined` for
   *   "not mine". When no tap answers, the principal is accepted.
   * @calledBy the token service on a refresh-token grant and the authenticator on a
   *   credential-cache hit (both asked fresh, so a changed password or secret counts at once),
   *   and Bearer verification on `/v2/` and `/api/v1` (answers cached per principal for
   *   `token.activeCacheSeconds`). Tokens carry the principal's `claims`, so a provider can
   *   refuse a principal of a replaced credential.
   * @since 0.1.0
   */
  readonly active: AsyncSeriesBailHook<[Principal], boolean | undefined>;
  /**
   * The authenticator asked the providers about credentials, with this result (an observation,
   * for metrics: the user name and password are not in it).
   * @kind SyncHook
   * @args attempt
   * @result ignored. Taps must be quick and must not throw (a throw is logged and ignored).
   * @calledBy the kernel's authenticator after the providers answered (not for answers from its
   *   credential cache), before the login is answered.
   * @since 0.2.0
   */
  readonly loginAttempted: SyncHook<[LoginAttempt]>;
  /**
   * The token service issued an access or refresh token (an observation, for metrics; the token
   * is not in it).
   * @kind SyncHook
   * @args issued
   * @result ignored. Taps must be quick and must not throw (a throw is logged and ignored).
   * @calledBy the token endpoint (`/service/token`), for each token it returns.
   * @since 0.2.0
   */
  readonly tokenIssued: SyncHook<[TokenIssued]>;
}

/** Authorization hooks. */
export interface RbacHooks {
  /**
   * Decides whether a principal may perform an action on a resource.
   * @kind AsyncSeriesBailHook
   * @args principal, access
   * @result `{ allow: true }` or `{ allow: false, reason }` ends the chain; `undefined` asks the
   *   next tap. When no tap answers, the kernel denies, unless no RBAC plugin is loaded at all,
   *   in which case the registry runs open (and said so at boot).
   * @calledBy the token service (for each requested scope) and every `/v2/` and API route.
   * @since 0.1.0
   */
  readonly authorize: AsyncSeriesBailHook<[Principal, AccessRequest], Decision | undefined>;
}

/** Registry policy gates and events. */
export interface RegistryHooks {
  /**
   * Policy gate before a manifest is stored (quota, immutability, signature policy...).
   * @kind AsyncSeriesHook
   * @args context
   * @result ignored; throw a `RegistryError` to refuse the push. Nothing is stored then.
   * @calledBy the manifest PUT route and `coreServices.content.putManifest`, after the manifest was
   *   parsed (its references are checked after the gates, in the store's transaction).
   * @since 0.1.0
   */
  readonly beforeManifestPut: AsyncSeriesHook<[ManifestPutContext]>;
  /**
   * Policy gate before a blob is committed into a repository (an upload finishing, or a
   * cross-repository mount), after the upload's digest was verified (quota).
   * @kind AsyncSeriesHook
   * @args context
   * @result ignored; throw a `RegistryError` to refuse the blob. A refused upload's bytes are
   *   discarded and nothing is linked. Whenever the commit does not complete after this hook
   *   started (a later tap refused, storage or database failed), `blobCommitFailed` is called
   *   with the same context object.
   * @calledBy the upload-finish routes (PUT, monolithic POST), the mount route (POST
   *   `?mount=&from=`), and `coreServices.content.putBlob` / `mountBlob`. Not called for a
   *   mount whose source lacks the blob.
   * @since 0.2.0
   */
  readonly beforeBlobCommit: AsyncSeriesHook<[BlobCommitContext]>;
  /**
   * A blob commit that `beforeBlobCommit` saw did not complete: release what a gate reserved.
   * @kind AsyncSeriesHook
   * @args context, error
   * @result ignored; a failing tap is logged and the client gets the original error. Taps run
   *   before the client is answered.
   * @calledBy the same callers as `beforeBlobCommit`.
   * @since 0.2.0
   */
  readonly blobCommitFailed: AsyncSeriesHook<[BlobCommitContext, unknown]>;
  /**
   * Policy gate before a manifest, tag or blob is deleted.
   * @kind AsyncSeriesHook
   * @args context
   * @result ignored; throw a `RegistryError` to refuse the delete.
   * @calledBy the manifest and blob DELETE routes, and `coreServices.content` deletes.
   * @since 0.1.0
   */
  readonly beforeDelete: AsyncSeriesHook<[DeleteContext]>;
  /**
   * Policy gate before a blob upload starts (a proxy-cache project refuses pushes here, before
   * the client sends any bytes).
   * @kind AsyncSeriesHook
   * @args context
   * @result ignored; throw a `RegistryError` to refuse the upload. Nothing is created then.
   * @calledBy the upload-start route (POST `/v2/<name>/blobs/uploads/`, with or without `mount`
   *   or `digest`), after authorization. Not called by `coreServices.content` writes.
   * @since 0.2.0
   */
  readonly beforeUploadStart: AsyncSeriesHook<[UploadStartContext]>;
  /**
   * Asked before a manifest GET or HEAD reads its reference from the store: a pull-through cache
   * checks its upstream here and stores what changed (through `coreServices.content`), so the
   * kernel serves it as ordinary content.
   * @kind AsyncSeriesBailHook
   * @args request
   * @result `undefined`: not mine, ask the next tap (the kernel then reads its store as usual); a
   *   `ManifestPreparation` ends the chain, the kernel reads its store and adds the answer's
   *   `headers` to the response. Throw a `RegistryError` to fail the pull (e.g. `MANIFEST_UNKNOWN`
   *   or `TOOMANYREQUESTS` naming the upstream's answer).
   * @calledBy the manifest GET and HEAD routes, after authorization and before resolving; again
   *   for the child digest when content negotiation picks an index's child.
   * @since 0.2.0
   */
  readonly prepareManifest: AsyncSeriesBailHook<[ManifestRequest], ManifestPreparation | undefined>;
  /**
   * Asked when a blob GET or HEAD names a blob the repository does not hold: a pull-through
   * cache streams it from its upstream (while storing it).
   * @kind AsyncSeriesBailHook
   * @args request
   * @result a `BlobSource` (size and stream) ends the chain and is served with status 200 (a
   *   `Range` header is ignored); `undefined` asks the next tap, and when none answers the client
   *   gets `BLOB_UNKNOWN`. Throw a `RegistryError` to fail the request.
   * @calledBy the blob GET and HEAD routes, after authorization, when the repository lacks the
   *   blob.
   * @since 0.2.0
   */
  readonly fetchBlob: AsyncSeriesBailHook<[BlobRequest], BlobSource | undefined>;
  /**
   * Policy gate before a manifest is served (e.g. block vulnerable images).
   * @kind AsyncSeriesHook
   * @args context
   * @result ignored; throw a `RegistryError` to refuse the pull.
   * @calledBy the manifest GET and HEAD routes.
   * @since 0.1.0
   */
  readonly beforePull: AsyncSeriesHook<[PullContext]>;
  /**
   * A manifest was stored.
   * @kind AsyncParallelHook
   * @args event
   * @result ignored. Taps run after the response is decided; a failing tap is logged and does
   *   not fail the push.
   * @calledBy the manifest PUT route and `coreServices.content.putManifest`.
   * @since 0.1.0
   */
  readonly manifestPushed: AsyncParallelHook<[ManifestPushedEvent]>;
  /**
   * A manifest or tag was deleted.
   * @kind AsyncParallelHook
   * @args event
   * @result ignored; failures are logged.
   * @calledBy the manifest DELETE route and `coreServices.content` deletes.
   * @since 0.1.0
   */
  readonly manifestDeleted: AsyncParallelHook<[ManifestDeletedEvent]>;
  /**
   * A blob was committed into a repository (upload finished or cross-repository mount).
   * @kind AsyncParallelHook
   * @args event
   * @result ignored; failures are logged.
   * @calledBy the upload routes and `coreServices.content` (`putBlob`, `mountBlob`).
   * @since 0.1.0
   */
  readonly blobCommitted: AsyncParallelHook<[BlobCommittedEvent]>;
  /**
   * A manifest was served with GET.
   * @kind AsyncParallelHook
   * @args event
   * @result ignored; failures are logged.
   * @calledBy the manifest GET route.
   * @since 0.1.0
   */
  readonly artifactPulled: AsyncParallelHook<[ArtifactPulledEvent]>;
}

/** Replication hooks. */
export interface ReplicationHooks {
  /**
   * Target adapters by registry type: `target.for('oci')` is the hook for OCI registries.
   * @kind HookMap<SyncBailHook>
   * @args endpoint
   * @result a connected `ReplicationTarget` for the endpoint, or `undefined` to let another tap
   *   answer.
   * @calledBy the replication engine, when it opens an endpoint of that type.
   * @since 0.1.0
   */
  readonly target: HookMap<SyncBailHook<[ReplicationEndpoint], ReplicationTarget | undefined>>;
  /**
   * A replication execution or task changed status (started, succeeded, failed, stopped).
   * @kind AsyncParallelHook
   * @args event
   * @result ignored; failures are logged and never fail the replication.
   * @calledBy the replication engine.
   * @since 0.1.0
   */
  readonly statusChanged: AsyncParallelHook<[ReplicationStatusEvent]>;
}

/** Logging hooks. */
export interface LoggingHooks {
  /**
   * Log sink types by name: `sink.for('loki')` is the hook for `log.sinks` entries with
   * `type: loki`. `stdout` and `file` are the kernel's own and have no hook.
   * @kind HookMap<SyncBailHook>
   * @args entry, context
   * @result a `LogSink` for the entry, or `undefined` to let another tap answer. Check the
   *   entry's own keys with `checkSinkOptions(schema, context)`; a throw stops the boot naming
   *   the plugin. No I/O here: connect on the first `write`.
   * @calledBy the kernel, once per `log.sinks` entry of that type, after every plugin's init and
   *   before `lifecycle.ready`. Records logged earlier wait in the sink's queue.
   * @since 0.2.0
   */
  readonly sink: HookMap<SyncBailHook<[LogSinkEntry, LogSinkContext], LogSink | undefined>>;
}

/** Lifecycle hooks. */
export interface LifecycleHooks {
  /**
   * The kernel is started: every service built, every migration run, every plugin's init
   * done; the HTTP server is not listening yet. For start work that needs the whole kernel
   * (background loops, warm-up); what needs only a plugin's own services belongs in its init.
   * @kind AsyncParallelHook
   * @args none
   * @result ignored; a throw, or a tap that does not settle within `server.bootTimeoutMs`, stops
   *   boot and names the plugin.
   * @calledBy the kernel, once, each tap on its own under the boot timeout.
   * @since 0.1.0
   */
  readonly ready: AsyncParallelHook<[]>;
  /**
   * The kernel is shutting down, after the HTTP server stopped accepting and drained.
   * @kind AsyncSeriesHook
   * @args none
   * @result ignored; failures are logged. The latest-registered tap runs first.
   * @calledBy the kernel, once, on close (SIGTERM, SIGINT or `kernel.close()`).
   * @since 0.1.0
   */
  readonly close: AsyncSeriesHook<[]>;
}

/**
 * Observations of the HTTP layer, for metrics: every request's start and end. Only the method
 * and the route template are reported, never the raw path (which holds repository names and
 * digests).
 */
export interface HttpHooks {
  /**
   * A request arrived.
   * @kind SyncHook
   * @args request
   * @result ignored. Taps must be quick and must not throw (a throw is logged and ignored).
   * @calledBy the kernel's HTTP layer, first thing for every request of the main listener.
   * @since 0.2.0
   */
  readonly requestStarted: SyncHook<[HttpRequestStarted]>;
  /**
   * A response was finished, or the connection closed first: exactly once per `requestStarted`.
   * @kind SyncHook
   * @args request
   * @result ignored. Taps must be quick and must not throw (a throw is logged and ignored).
   * @calledBy the kernel's HTTP layer, when the response ends.
   * @since 0.2.0
   */
  readonly requestFinished: SyncHook<[HttpRequestFinished]>;
}

/** Observations of the storage driver, for metrics. */
export interface StorageHooks {
  /**
   * A call of the storage driver settled.
   * @kind SyncHook
   * @args operation
   * @result ignored. Taps must be quick and must not throw (a throw is logged and ignored).
   * @calledBy the kernel's wrapper around the storage service, for every call by the kernel or
   *   a plugin (`coreServices.storage` is the wrapped driver).
   * @since 0.2.0
   */
  readonly operationFinished: SyncHook<[StorageOperation]>;
}

/** Observations of the jobs service, for metrics. */
export interface JobsHooks {
  /**
   * A job handler's run finished on this node.
   * @kind SyncHook
   * @args attempt
   * @result ignored. Taps must be quick and must not throw (a throw is logged and ignored).
   * @calledBy both jobs backends (embedded and Redis), after each handler run.
   * @since 0.2.0
   */
  readonly attemptFinished: SyncHook<[JobAttempt]>;
}

/**
 * The whole catalogue, as the kernel holds it.
 * @since 0.1.0
 */
export interface KernelHooks {
  readonly auth: AuthHooks;
  readonly rbac: RbacHooks;
  readonly registry: RegistryHooks;
  readonly replication: ReplicationHooks;
  readonly logging: LoggingHooks;
  readonly lifecycle: LifecycleHooks;
  /** @since 0.2.0 */
  readonly http: HttpHooks;
  /** @since 0.2.0 */
  readonly storage: StorageHooks;
  /** @since 0.2.0 */
  readonly jobs: JobsHooks;
}

/** The tap side of a tapable hook: what a plugin may do with it. */
export interface TapOnlyHook<H> {
  readonly tap: H extends { tap: infer F } ? F : never;
  readonly tapAsync: H extends { tapAsync: infer F } ? F : never;
  readonly tapPromise: H extends { tapPromise: infer F } ? F : never;
}

/** The tap side of a hook map: `for(key)` gives a tap-only hook. */
export interface TapOnlyHookMap<H> {
  for(key: string): TapOnlyHook<H>;
}

type TapOnlyDomain<D> = {
  readonly [K in keyof D]: D[K] extends HookMap<infer H> ? TapOnlyHookMap<H> : TapOnlyHook<D[K]>;
};

/**
 * What `register(ctx)` receives as `ctx.hooks`: the catalogue with only the tap methods.
 * Tap names are replaced by the plugin id so that logs say who tapped and who threw.
 * @since 0.1.0
 */
export type PluginHooks = { readonly [D in keyof KernelHooks]: TapOnlyDomain<KernelHooks[D]> };
