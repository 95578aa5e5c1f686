import type { Readable } from 'node:stream';
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

/**
 * A manifest GET or HEAD about to be answered: the argument of `registry.prepareManifest`.
 * Asked before the kernel reads the reference from its store, so a tap may store what the
 * store lacks (a pull-through cache fetches it from an upstream registry).
 * @since 0.2.0
 */
export interface ManifestRequest {
  readonly repository: string;
  /** The tag or digest of the request. */
  readonly reference: string;
  readonly method: 'GET' | 'HEAD';
  readonly principal: Principal;
  readonly request: RequestInfo;
}

/**
 * What a `registry.prepareManifest` tap answers: the kernel then reads the manifest from its
 * store (where the tap put it) and adds `headers` to the response (e.g. a `Warning` that a
 * stale copy is being served).
 * @since 0.2.0
 */
export interface ManifestPreparation {
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/**
 * A blob GET or HEAD for a blob the repository does not hold: the argument of
 * `registry.fetchBlob`.
 * @since 0.2.0
 */
export interface BlobRequest {
  readonly repository: string;
  readonly digest: Digest;
  readonly method: 'GET' | 'HEAD';
  readonly principal: Principal;
  readonly request: RequestInfo;
}

/**
 * A blob served from elsewhere than the kernel's storage (a pull-through cache streaming it from
 * an upstream). The kernel sends `size` as the length and pipes `stream` to the client; for a
 * HEAD the stream may be absent (and is destroyed when present). A stream that errors midway
 * aborts the response, so a client never takes a cut or corrupt blob for a whole one.
 * @since 0.2.0
 */
export interface BlobSource {
  readonly size: number;
  readonly stream: Readable | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/**
 * A client starting a blob upload (POST `/v2/<name>/blobs/uploads/`, also a mount or a
 * monolithic upload): the argument of `registry.beforeUploadStart`.
 * @since 0.2.0
 */
export interface UploadStartContext {
  readonly repository: string;
  /** The source repository of a mount request (`?mount=&from=`). */
  readonly from: string | undefined;
  readonly principal: Principal;
  readonly request: RequestInfo;
}
