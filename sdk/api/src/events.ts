import type { Digest } from './digest.js';
import type { Principal, RequestInfo } from './principal.js';

/**
 * Arguments of the registry hooks: policy gates (`before*`) and events.
 * @see docs/architecture/02-hooks.md
 * @since 0.1.0
 */

/** A manifest about to be stored. Gates may throw a `RegistryError` to refuse it. */
export interface ManifestPutContext {
  readonly repository: string;
  /** The tag being set, when the manifest was pushed by tag. */
  readonly tag: string | undefined;
  readonly digest: Digest;
  readonly mediaType: string;
  readonly artifactType: string | undefined;
  readonly size: number;
  /** Digests this manifest references: layers and config, or index children. */
  readonly references: readonly Digest[];
  readonly subject: Digest | undefined;
  readonly principal: Principal;
  readonly request: RequestInfo;
  /**
   * Makes a gate's decision about `tag` hold until the write: the kernel stores the tag only if,
   * inside the store's transaction (with the tag's row locked), it still points at `current`
   * (`undefined`: it still does not exist, or already points at this manifest's digest). When a
   * concurrent push changed it, the PUT fails with the error `refuse(actual)` returns and nothing
   * is stored. Absent when the context was not made by the kernel.
   * @since 0.2.0
   */
  readonly expectTag?: (current: Digest | undefined, refuse: (actual: Digest | undefined) => Error) => void;
}

/**
 * A blob about to be committed into a repository: an upload whose digest was verified, or a
 * cross-repository mount. Gates may throw a `RegistryError` to refuse it; the upload's bytes are
 * then discarded (a refused mount links nothing). The same object is passed to
 * `registry.blobCommitFailed` when the commit does not complete, so a gate may key what it
 * reserved on it.
 * @since 0.2.0
 */
export interface BlobCommitContext {
  readonly repository: string;
  readonly digest: Digest;
  /** The blob's size in bytes. */
  readonly size: number;
  /** `upload`: an upload is being committed; `mount`: a blob of `from` is being linked. */
  readonly kind: 'upload' | 'mount';
  /** The source repository of a mount. */
  readonly from: string | undefined;
  readonly principal: Principal;
  readonly request: RequestInfo;
}

/** A manifest, tag or blob about to be deleted. */
export interface DeleteContext {
  readonly repository: string;
  readonly target: { kind: 'manifest'; digest: Digest } | { kind: 'tag'; tag: string; digest: Digest } | { kind: 'blob'; digest: Digest };
  readonly principal: Principal;
  readonly request: RequestInfo;
}

/** A manifest about to be served. */
export interface PullContext {
  readonly repository: string;
  readonly reference: string;
  readonly digest: Digest;
  readonly mediaType: string;
  readonly principal: Principal;
  readonly request: RequestInfo;
}

/** Common fields of every registry event. */
export interface RegistryEventBase {
  /** Unique id of the event. */
  readonly id: string;
  readonly timestamp: Date;
  readonly repository: string;
  readonly actor: Principal;
  readonly request: RequestInfo | undefined;
}

/** A manifest was stored (and possibly tagged). */
export interface ManifestPushedEvent extends RegistryEventBase {
  readonly digest: Digest;
  readonly tag: string | undefined;
  readonly mediaType: string;
  readonly artifactType: string | undefined;
  readonly size: number;
  readonly subject: Digest | undefined;
}

/** A manifest or a tag was deleted. */
export interface ManifestDeletedEvent extends RegistryEventBase {
  readonly digest: Digest;
  /** Set when only a tag was removed. */
  readonly tag: string | undefined;
}

/** A blob upload was verified and committed (or mounted) into a repository. */
export interface BlobCommittedEvent extends RegistryEventBase {
  readonly digest: Digest;
  readonly size: number;
  readonly mounted: boolean;
}

/** A manifest was served to a client (GET, not HEAD). */
export interface ArtifactPulledEvent extends RegistryEventBase {
  readonly digest: Digest;
  readonly reference: string;
  readonly mediaType: string;
}
