import type { Readable } from 'node:stream';
import type { Digest } from './digest.js';

/**
 * Replication target adapters: how Wharf talks to another registry. Adapters are contributed by
 * plugins through the `replication.target` hook map, keyed by endpoint type (`oci`, ...). The
 * replication engine (the `@wharf/plugin-replication` plugin, through
 * `coreServices.replicationTargets`) decides what to copy; an adapter only moves content.
 *
 * Adapters never buffer a blob: blobs are streams in both directions.
 * `@wharf/sdk-testing` has a conformance suite every adapter should run.
 * @see docs/architecture/12-replication.md
 * @since 0.1.0
 */

/** Credentials of an endpoint, decrypted by the kernel just before it opens the target. */
export interface ReplicationCredentials {
  readonly username: string;
  /** A password or token secret. Never log it. */
  readonly password: string;
}

/** How to reach a registry endpoint. */
export interface ReplicationEndpoint {
  /** The endpoint's name in Wharf (for log lines and errors). */
  readonly name: string;
  /** Adapter type, the key of the `replication.target` hook map. */
  readonly type: string;
  /** Base URL, e.g. `https://registry.example.com`; no trailing slash, no `/v2`. */
  readonly url: string;
  readonly credentials?: ReplicationCredentials | undefined;
  /** Skip TLS certificate verification (test and lab registries only). */
  readonly insecure?: boolean | undefined;
  /** Extra CA certificates (PEM) to trust for this endpoint. */
  readonly caCertificate?: string | undefined;
}

/** A content descriptor as the OCI image spec defines it (the fields replication needs). */
export interface ContentDescriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly artifactType?: string | undefined;
  readonly annotations?: Readonly<Record<string, string>> | undefined;
}

/** A manifest's identity, as a HEAD request reports it. */
export interface ManifestInfo {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
}

/** A manifest as read from or written to a target: its exact bytes, never re-serialized. */
export interface RemoteManifest extends ManifestInfo {
  readonly payload: Buffer;
}

/** A blob being read: its size and its bytes as a stream the caller must consume or destroy. */
export interface BlobReader {
  readonly size: number;
  readonly stream: Readable;
}

/** Options of {@link ReplicationTarget.readBlob}. */
export interface ReadBlobOptions {
  /**
   * `false`: the stream still fails when the bytes are not `size` long, but the adapter does not
   * hash them, because the caller verifies the digest itself on a pass it makes anyway (the
   * proxy cache commits through `ContentService.putBlob`, which hashes while it writes). Hashing
   * costs about as much CPU as the rest of the copy. Default `true`.
   */
  readonly verify?: boolean;
}

/** Options of {@link ReplicationTarget.writeBlob}. */
export interface WriteBlobOptions {
  /**
   * Send the blob in chunks of this many bytes (PATCH with `Content-Range`) instead of one
   * streamed request. `undefined`: the adapter decides.
   */
  readonly chunkSize?: number | undefined;
  /** Aborts the transfer (the execution was stopped). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * One connected registry. Repository names are full names on that registry (`team/app`), and a
 * `reference` is a tag or a digest. Methods throw a {@link ReplicationTargetError} (or any error,
 * which the engine treats as retryable) when the registry refuses or cannot be reached.
 */
export interface ReplicationTarget {
  /** Checks that the registry answers and the credentials are accepted. */
  ping(): Promise<void>;
  /** Every repository the credentials can see (`/v2/_catalog`), in the registry's order. */
  listRepositories(): AsyncIterable<string>;
  /** Every tag of a repository; empty when the repository does not exist. */
  listTags(repository: string): Promise<string[]>;
  /** A manifest's digest, media type and size without its body; `undefined` when absent. */
  headManifest(repository: string, reference: string): Promise<ManifestInfo | undefined>;
  /** A manifest with its exact bytes; `undefined` when absent. */
  getManifest(repository: string, reference: string): Promise<RemoteManifest | undefined>;
  /** Stores a manifest's exact bytes under a tag or under its digest. */
  putManifest(repository: string, reference: string, manifest: RemoteManifest): Promise<void>;
  /** Deletes a manifest by digest, or a tag. Resolves when it was absent too. */
  deleteManifest(repository: string, reference: string): Promise<void>;
  /** Whether the repository holds the blob. */
  hasBlob(repository: string, digest: Digest): Promise<boolean>;
  /**
   * Tries a cross-repository mount of a blob the registry holds in `fromRepository`. Resolves
   * `true` when mounted, `false` when the registry declined (the caller then uploads).
   */
  mountBlob(repository: string, digest: Digest, fromRepository: string): Promise<boolean>;
  /**
   * Opens a blob for reading. The stream fails at its end (never ends cleanly) when the bytes
   * are not `size` long or do not hash to `digest`: consumers such as a proxy cache pass the
   * bytes on as they arrive and rely on that check.
   */
  readBlob(repository: string, digest: Digest, signal?: AbortSignal, options?: ReadBlobOptions): Promise<BlobReader>;
  /** Uploads a blob from a stream of exactly `size` bytes whose digest is `digest`. */
  writeBlob(repository: string, digest: Digest, size: number, data: Readable, options?: WriteBlobOptions): Promise<void>;
  /**
   * Manifests whose `subject` is `digest` (signatures, SBOMs...), through the OCI referrers API
   * or its tag-schema fallback. `undefined` when the registry supports neither.
   */
  listReferrers(repository: string, digest: Digest): Promise<ContentDescriptor[] | undefined>;
  /** Releases connections. */
  close?(): Promise<void>;
}

/** Why a target refused; `retryable: false` errors fail a task at once. */
export type ReplicationTargetErrorCode =
  | 'UNREACHABLE'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'NOT_FOUND'
  | 'INVALID'
  | 'UNSUPPORTED'
  | 'REMOTE_ERROR';

/**
 * An error from a target registry, with the OCI error code it sent (when it sent one).
 * @since 0.1.0
 */
export class ReplicationTargetError extends Error {
  constructor(
    readonly code: ReplicationTargetErrorCode,
    message: string,
    readonly details: { readonly status?: number; readonly ociCode?: string; readonly retryable?: boolean } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ReplicationTargetError';
  }

  /** Unreachable registries and 5xx answers are worth retrying; refusals are not. */
  get retryable(): boolean {
    return this.details.retryable ?? (this.code === 'UNREACHABLE' || this.code === 'REMOTE_ERROR');
  }
}

/** True for a {@link ReplicationTargetError} from any copy of the SDK. */
export function isReplicationTargetError(err: unknown): err is ReplicationTargetError {
  return err instanceof Error && err.name === 'ReplicationTargetError' && typeof (err as { code?: unknown }).code === 'string';
}

/** Where a replication execution or task is. */
export type ReplicationStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'stopping' | 'stopped' | 'skipped';

/**
 * A replication execution or one of its tasks changed status: the argument of the
 * `replication.statusChanged` event, for audit logs and webhooks.
 * @since 0.1.0
 */
export interface ReplicationStatusEvent {
  readonly id: string;
  readonly timestamp: Date;
  readonly kind: 'execution' | 'task';
  readonly policyId: number;
  readonly policyName: string;
  readonly executionId: number;
  /** Set for task events. */
  readonly taskId?: number | undefined;
  readonly status: ReplicationStatus;
  /** What moved (task events): `team/app:1.0` on the source and destination sides. */
  readonly source?: string | undefined;
  readonly destination?: string | undefined;
  /** Why it failed, for `failed` task events. */
  readonly error?: string | undefined;
  /**
   * Bytes the task copied (blob and manifest bytes sent to the destination), for finished task
   * events; `undefined` on execution events and on tasks that never started copying.
   * @since 0.2.0
   */
  readonly bytes?: number | undefined;
}

/**
 * Replication target adapters as a service, for the replication engine: the kernel owns the
 * `replication.target` hook map and the `replication.statusChanged` hook, and plugins only tap
 * hooks, so the engine opens adapters and reports statuses through this service.
 * Provided by the kernel as `coreServices.replicationTargets`.
 * @see docs/architecture/12-replication.md
 * @since 0.2.0
 */
export interface ReplicationTargetService {
  /** Endpoint types some plugin has an adapter for, sorted (`['oci']`). */
  kinds(): string[];
  /**
   * Opens a target through the adapter tapped for `endpoint.type`. Throws a
   * {@link ReplicationTargetError} `UNSUPPORTED` (not retryable) when no adapter answers.
   */
  open(endpoint: ReplicationEndpoint): ReplicationTarget;
  /**
   * Calls the in-process `replication.statusChanged` hook for its taps. Resolves once they ran;
   * a tap's failure is logged, never thrown. (Durable consumers get `replication.status.changed`.)
   */
  statusChanged(event: ReplicationStatusEvent): Promise<void>;
}
