import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Digest } from './digest.js';
import type { Principal, RequestInfo } from './principal.js';
import type { DatabaseService } from './database.js';
import type { ReplicationStatus } from './replication.js';
import type { ResolvedDeps, ServiceDeps } from './services.js';

/**
 * Durable events: facts recorded with the change they describe (in the same database
 * transaction when the change is a row, before the response otherwise) and handed to named
 * consumers at least once, in order per partition (a repository, a project), by whichever node
 * is free. Use them for anything a crash must not lose: replication triggers, webhooks, the audit
 * log, quotas. For in-process observers that may miss an event (caches, metrics), tap the
 * synchronous `registry.*` hooks instead.
 *
 * @see docs/architecture/14-events.md
 * @since 0.2.0
 */

/**
 * A typed handle on an event type: its name and, as a phantom, the shape of its data.
 * @since 0.2.0
 */
export interface EventType<TData> {
  readonly $$type: 'wharf/EventType';
  /** Dotted name, `<area>.<thing>.<what happened>`, e.g. `registry.manifest.pushed`. */
  readonly name: string;
  /** Phantom field carrying the data type; never set. */
  readonly T?: TData;
}

const EVENT_NAME = /^[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*){1,4}$/;

/**
 * Declares an event type. Plugins declare their own (`acme.scan.finished`) the same way.
 * @since 0.2.0
 */
export function defineEventType<TData>(name: string): EventType<TData> {
  if (!EVENT_NAME.test(name)) throw new TypeError(`event type name must look like "area.thing.happened", got "${name}"`);
  return Object.freeze({ $$type: 'wharf/EventType', name });
}

/** True when `event` is of `type`, narrowing its data. @since 0.2.0 */
export function isEventOf<T>(type: EventType<T>, event: EventEnvelope): event is EventEnvelope<T> {
  return event.type === type.name;
}

/** Who caused an event (never a credential). @since 0.2.0 */
export interface EventActor {
  readonly subject: string;
  readonly kind: 'user' | 'robot' | 'anonymous' | 'system';
  /** The plugin that vouched for the actor. */
  readonly provider: string;
}

/** The request behind an event, when there was one. @since 0.2.0 */
export interface EventRequest {
  readonly requestId: string;
  readonly ip: string;
  readonly userAgent?: string | undefined;
}

/**
 * The actor and request fields of an event draft, from a principal and its request (nothing
 * else of the principal: no claims, no groups).
 * @since 0.2.0
 */
export function eventContextOf(principal: Principal, request?: RequestInfo): { actor: EventActor; request?: EventRequest } {
  return {
    actor: { subject: principal.subject, kind: principal.kind, provider: principal.provider },
    ...(request ? { request: { requestId: request.requestId, ip: request.ip, userAgent: request.userAgent } } : {}),
  };
}

/** An event as consumers receive it. @since 0.2.0 */
export interface EventEnvelope<TData = unknown> {
  /** Unique id (a UUID): receivers deduplicate on it. */
  readonly id: string;
  /** Position in the registry's event log; increases with recording order. */
  readonly seq: number;
  readonly type: string;
  readonly occurredAt: Date;
  /** The ordering key: events of one partition reach a consumer in order. */
  readonly partition: string;
  readonly actor: EventActor | undefined;
  readonly request: EventRequest | undefined;
  readonly data: TData;
}

/** What a publisher says about an event; the service adds id, seq and time. @since 0.2.0 */
export interface EventDraft<TData = unknown> {
  readonly type: EventType<TData>;
  readonly partition: string;
  readonly data: TData;
  readonly actor?: EventActor | undefined;
  readonly request?: EventRequest | undefined;
}

/** What a consumer's handler receives. @since 0.2.0 */
export interface DeliveryContext {
  readonly event: EventEnvelope;
  /** 1 on the first delivery of this event to this consumer. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** Aborted when the node shuts down or loses the delivery's lease; stop promptly. */
  readonly signal: AbortSignal;
  /** The node's logger with consumer, event id and type bound. */
  readonly logger: Logger;
}

/**
 * What a consumer's {@link EventConsumer.handleBatch} receives: several events of one
 * partition, in order, each delivered for the first time. @since 0.2.0
 */
export interface BatchDeliveryContext {
  readonly events: readonly EventEnvelope[];
  readonly maxAttempts: number;
  /** Aborted when the node shuts down or loses the deliveries' lease; stop promptly. */
  readonly signal: AbortSignal;
  /** The node's logger with the consumer and partition bound. */
  readonly logger: Logger;
}

/**
 * A durable consumer. Its name is its identity across restarts and nodes: renaming it starts a
 * new consumer that sees only events recorded from then on.
 * @since 0.2.0
 */
export interface EventConsumer<D extends ServiceDeps = Record<never, never>> {
  /** Kebab-case, unique per registry, e.g. `replication-trigger`. */
  readonly name: string;
  /**
   * Event types to receive: {@link EventType} handles, or name patterns ending in `.*`
   * (`management.*` is every management event).
   */
  readonly types: ReadonlyArray<EventType<unknown> | string>;
  /**
   * Services the handler needs, as in `registerInit`: the kernel checks at boot that they are
   * provided and hands them, built, to every `handle` call. A consumer subscribes in `register`,
   * before any service exists, so this is how its handler reaches them.
   */
  readonly deps?: D;
  /**
   * Handles one event. Resolve when done; throw to retry with backoff. Handlers must be
   * idempotent: an event may come again after a crash.
   */
  handle(delivery: DeliveryContext, deps: ResolvedDeps<D>): Promise<void>;
  /**
   * Optional: handles several events of one partition at once (the events a delivery run
   * claimed together, up to 50), e.g. to write them in one statement. All or nothing: resolve
   * when all are done; a throw counts as a failed delivery of the first of them (retried with
   * backoff, dead after `maxAttempts`) and the others are handed back untried. A single
   * event, and every retry, goes to `handle`. Idempotent like `handle`. Gets `deps` as `handle` does.
   */
  handleBatch?(batch: BatchDeliveryContext, deps: ResolvedDeps<D>): Promise<void>;
  /** Deliveries running at once on one node (different partitions). Default 4. */
  readonly concurrency?: number;
  /** Deliveries before an event is marked dead for this consumer. Default from `events.maxAttempts`. */
  readonly maxAttempts?: number;
  /** First retry delay, doubling per retry up to `maxBackoffMs`. Defaults 1 s and 5 min. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** A consumer's backlog, as the API and metrics show it. @since 0.2.0 */
export interface ConsumerStatus {
  readonly name: string;
  readonly types: readonly string[];
  readonly pending: number;
  readonly running: number;
  readonly dead: number;
  readonly delivered: number;
  /** Age of the oldest undelivered event, in ms (0 when caught up): the consumer's lag. */
  readonly lagMs: number;
  readonly lastError: string | undefined;
}

/** Options of {@link EventService.publish}. @since 0.2.0 */
export interface PublishOptions {
  /**
   * The caller's transaction: the events commit or roll back with the change they describe.
   * Without it, the transaction of a surrounding `coreServices.database.transaction(fn)`; outside
   * one, the events are recorded at once, in their own transaction.
   */
  readonly transaction?: Knex.Transaction | undefined;
}

/**
 * The durable event service, provided by the kernel as `coreServices.events`.
 * @since 0.2.0
 */
export interface EventService {
  /**
   * Records events. Resolves once they are stored (or written into `transaction`). Events of a
   * type no consumer subscribes to are not stored at all.
   */
  publish(events: EventDraft<unknown> | ReadonlyArray<EventDraft<unknown>>, options?: PublishOptions): Promise<void>;
  /** Adds a durable consumer. Call during `register`: every node must know the same consumers. */
  subscribe<D extends ServiceDeps>(consumer: EventConsumer<D>): void;
  /** True when some consumer receives events of this type (publishers may skip work otherwise). */
  hasSubscribers(type: EventType<unknown>): boolean;
  /** Every consumer's backlog. */
  consumers(): Promise<ConsumerStatus[]>;
}

/** Data of `registry.manifest.pushed`. @since 0.2.0 */
export interface ManifestPushedData {
  readonly repository: string;
  readonly digest: Digest;
  readonly tag: string | undefined;
  readonly mediaType: string;
  readonly artifactType: string | undefined;
  readonly size: number;
  readonly subject: Digest | undefined;
}

/** Data of `registry.manifest.deleted` (the manifest and its tags) and `registry.tag.deleted`. @since 0.2.0 */
export interface ManifestDeletedData {
  readonly repository: string;
  readonly digest: Digest;
  /** Set for `registry.tag.deleted`: the tag removed (the manifest stays). */
  readonly tag: string | undefined;
}

/** Data of `registry.blob.committed`. @since 0.2.0 */
export interface BlobCommittedData {
  readonly repository: string;
  readonly digest: Digest;
  readonly size: number;
  /** True for a cross-repository mount (no bytes were uploaded). */
  readonly mounted: boolean;
}

/** Data of `registry.artifact.pulled`. @since 0.2.0 */
export interface ArtifactPulledData {
  readonly repository: string;
  readonly digest: Digest;
  /** The tag or digest the client asked for. */
  readonly reference: string;
  readonly mediaType: string;
  /**
   * How many pulls the event stands for: identical pulls (same manifest and reference, same
   * actor, address and user agent) recorded in one batch are one event. The request id is the
   * first pull's.
   */
  readonly count: number;
}

/** Data of `registry.repository.deleted`. @since 0.2.0 */
export interface RepositoryDeletedData {
  readonly repository: string;
}

/**
 * The registry's own event types, recorded by the kernel. Partition: the repository name.
 * @since 0.2.0
 */
export const registryEvents = Object.freeze({
  manifestPushed: defineEventType<ManifestPushedData>('registry.manifest.pushed'),
  manifestDeleted: defineEventType<ManifestDeletedData>('registry.manifest.deleted'),
  tagDeleted: defineEventType<ManifestDeletedData>('registry.tag.deleted'),
  blobCommitted: defineEventType<BlobCommittedData>('registry.blob.committed'),
  artifactPulled: defineEventType<ArtifactPulledData>('registry.artifact.pulled'),
  repositoryDeleted: defineEventType<RepositoryDeletedData>('registry.repository.deleted'),
});

/**
 * Data of every `management.<resource>.<created|updated|deleted>` event: which resource changed.
 * Partition: `<resource>:<id>` (or the project for resources inside one).
 * @since 0.2.0
 */
export interface ResourceChangedData {
  /** `project`, `member`, `user`, `robot`, `registry`, `replication-policy`, ... */
  readonly resource: string;
  /** The resource's name or id as the API shows it. */
  readonly id: string;
  /** The project the resource belongs to, when it belongs to one. */
  readonly project?: string | undefined;
  /** Changed fields (never secrets), for updates. */
  readonly changes?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * A management event type: `management.<resource>.<action>`. Declare each once and reuse it.
 * @since 0.2.0
 */
export function managementEvent(resource: string, action: 'created' | 'updated' | 'deleted'): EventType<ResourceChangedData> {
  return defineEventType<ResourceChangedData>(`management.${resource}.${action}`);
}

/** Data of `auth.login.succeeded` and `auth.login.failed`. Never the password. @since 0.2.0 */
export interface LoginData {
  /** The user name as presented (cut to 128 characters). */
  readonly username: string;
  /** The provider that answered (`db`, `ldap`, ...), when one did. */
  readonly provider: string | undefined;
  /** Where: `token` (the token service), `v2` (Basic on /v2/), `api` (Basic on /api/v1). */
  readonly via: string;
  readonly reason?: string | undefined;
}

/**
 * Data of `auth.access.denied`: an authorization refused a request: a 401 or 403 on `/api/v1`
 * or `/v2/` (not the anonymous challenge that starts every Docker login, not a failed Basic
 * login, which is `auth.login.failed`), or a scope the token service did not grant. Recorded at
 * most once per (actor, client address, operation) and window on each node: the first refusal
 * at once (`count: 1`), the ones after it in the window as one event when the window ends
 * (`count` = how many, `aggregated: true`), so a flood of refusals cannot flood the event log.
 * @since 0.2.0
 */
export interface AccessDeniedData {
  /** `GET /api/v1/audit-logs` (a route template), `PUT /v2/{name}/manifests/{reference}`, `token repository:push`. */
  readonly operation: string;
  /** What was asked for: a repository for /v2/ and the token service, the request path's template otherwise. */
  readonly resource: string;
  /** The HTTP status sent (401, 403); 200 for a token issued without the denied scope. */
  readonly status: number;
  /** Where: `api`, `v2`, `token`. */
  readonly via: string;
  /** How many refusals this event stands for. */
  readonly count: number;
  /** True for the summary of the refusals that followed the first one in a window. */
  readonly aggregated: boolean;
  /** Why, when the refusal said (the token service's reason). */
  readonly reason?: string | undefined;
}

/** Login events, recorded by the kernel's authenticator. Partition: `user:<name>`. @since 0.2.0 */
export const authEvents = Object.freeze({
  loginSucceeded: defineEventType<LoginData>('auth.login.succeeded'),
  loginFailed: defineEventType<LoginData>('auth.login.failed'),
  /** Refused access, aggregated per actor, address and operation (partition `access:<actor>`). @since 0.2.0 */
  accessDenied: defineEventType<AccessDeniedData>('auth.access.denied'),
});

/**
 * Data of `system.config.changed`: this boot's effective configuration (defaults applied)
 * differs from the last boot's, recorded by the kernel at boot. Key paths only, in the config's
 * notation (`jobs.history.keep`, `auth[0].ldap.bindPassword`); never a value, secret or not.
 * Wharf has no API that changes configuration (one YAML file drives a deployment), so this is
 * how a changed file shows in the audit log. Partition: `system:config`.
 * @since 0.2.0
 */
export interface ConfigChangedData {
  /** Key paths whose value changed. */
  readonly changed: readonly string[];
  /** Key paths that were not there last time. */
  readonly added: readonly string[];
  /** Key paths that are gone. */
  readonly removed: readonly string[];
  /** True when the lists were cut (at 200 paths each). */
  readonly truncated: boolean;
}

/** Events the kernel records about the deployment itself. @since 0.2.0 */
export const systemEvents = Object.freeze({
  configChanged: defineEventType<ConfigChangedData>('system.config.changed'),
});

/**
 * Data of `replication.status.changed`: a replication execution moved to another status
 * (`pending` when it is created, then `running`, and one final `succeeded`, `failed` or
 * `stopped`; `running` again when it is resumed). Recorded in the transaction that changes the
 * status. Times are ISO 8601 strings; counts are the execution's tasks at that moment.
 * @since 0.2.0
 */
export interface ReplicationStatusChangedData {
  readonly policyId: number;
  readonly policyName: string;
  readonly executionId: number;
  readonly status: ReplicationStatus;
  /** What started the execution. */
  readonly trigger: 'manual' | 'scheduled' | 'event';
  /** Replication direction of the policy: `push` (to the endpoint) or `pull` (from it). */
  readonly mode: 'push' | 'pull';
  /** The policy's registry endpoint, by name. */
  readonly endpoint: string;
  readonly startedAt: string;
  /** Set once the execution is final. */
  readonly finishedAt?: string | undefined;
  /** Tasks (one per artifact) of the execution; 0 until it is planned. */
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly stopped: number;
  readonly skipped: number;
  /** Bytes copied so far. */
  readonly bytes: number;
  /** A human summary (`3 succeeded, 0 failed ... of 3`, or why planning failed). */
  readonly statusText: string;
  /**
   * The local project the policy's repositories belong to, when one can be named: a pull's
   * destination namespace, else the first segment every include pattern on repositories starts
   * with (`library/**` → `library`). Undefined for a policy that spans projects. Webhooks send
   * the event to this project's policies.
   */
  readonly project?: string | undefined;
}

/**
 * Replication event types, recorded by the replication engine. Partition:
 * `replication:<policyId>`, so one policy's executions reach a consumer in order.
 * @since 0.2.0
 */
export const replicationEvents = Object.freeze({
  statusChanged: defineEventType<ReplicationStatusChangedData>('replication.status.changed'),
});

/** The partition of a policy's replication events. @since 0.2.0 */
export function replicationPartition(policyId: number): string {
  return `replication:${policyId}`;
}

/**
 * Runs a change and records the event describing it in one transaction (the change must go
 * through `database.knex`, as plugins' stores do): both commit, or neither. `event` may return
 * `undefined` when the change turned out to change nothing.
 * @since 0.2.0
 */
export function recordChange<T>(
  deps: { readonly database: DatabaseService; readonly events: EventService },
  change: () => Promise<T>,
  event: (result: T) => EventDraft<unknown> | undefined,
): Promise<T> {
  return deps.database.transaction(async () => {
    const result = await change();
    const draft = event(result);
    if (draft) await deps.events.publish(draft);
    return result;
  });
}
