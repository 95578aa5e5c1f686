import type { Readable } from 'node:stream';
import type { Digest } from './digest.js';
import type { Principal, RequestInfo } from './principal.js';
import type { ByteRange } from './storage.js';
import type { ApiSortKey } from './list-sort.js';

/**
 * Content services: what the registry holds, read from the metadata database, and writing into
 * it with the kernel's checks and events. Garbage collection, retention, quotas, proxy caches
 * and scanners are written against these, never against kernel internals. All four are provided
 * by the kernel: `coreServices.artifacts`, `coreServices.blobs`,
 * `coreServices.uploads` and `coreServices.content`.
 * @see docs/architecture/03-services.md
 * @since 0.2.0
 */

/**
 * A page request for content listings: at most `limit` items (default 100, at most 1000) that
 * come after the `cursor` a previous page returned.
 * @since 0.2.0
 */
export interface ContentPageRequest {
  readonly limit?: number;
  /** The `next` of the previous page; omit for the first page. */
  readonly cursor?: string;
}

/**
 * One page of a content listing. `next` is set when more items may follow; pass it as `cursor`.
 * Listings are in a stable order, so paging never repeats or skips an item that exists
 * throughout.
 * @since 0.2.0
 */
export interface ContentPage<TItem> {
  readonly items: readonly TItem[];
  readonly next: string | undefined;
}

/**
 * A numbered page (from 1) of at most `pageSize` items (1 to 1000), and what comes back: the
 * items and the total over all pages. For listings a person pages through (the management
 * API's `page` and `page_size`); walks over whole tables use the keyset pages above.
 * @since 0.2.0
 */
export interface NumberedPageRequest {
  readonly page: number;
  readonly pageSize: number;
}

/** One numbered page and the total. @since 0.2.0 */
export interface NumberedPage<TItem> {
  readonly items: readonly TItem[];
  readonly total: number;
}

/**
 * Which repositories {@link ArtifactService.findRepositories} lists: those named
 * `<namespace>/...` (a project's), optionally only those whose name after `<namespace>/`
 * contains `contains` (case-insensitive).
 * @since 0.2.0
 */
export interface RepositorySearch extends NumberedPageRequest {
  readonly namespace: string;
  readonly contains?: string | undefined;
  /**
   * The order, over {@link REPOSITORY_SORTS} (the management API's `sort=` keys); ties break on
   * the repository's id. Default: by name. @since 0.2.0
   */
  readonly sort?: readonly ApiSortKey[] | undefined;
}

/**
 * The fields {@link ArtifactService.findRepositories} sorts by: name, the artifact and tag
 * counts, when created and when last changed (a push, a tag move; as `updatedAt` says).
 * @since 0.2.0
 */
export const REPOSITORY_SORTS: readonly string[] = Object.freeze(['name', 'artifactCount', 'tagCount', 'createdAt', 'updatedAt']);

/**
 * A registry-wide search: repositories and tags whose name contains `text` (case-insensitive),
 * manifests whose digest starts with it (`sha256:` optional, at least 4 hex digits), at most
 * `limit` (1 to 100) of each, in the `namespaces` given (every namespace when omitted).
 * @since 0.2.0
 */
export interface ContentSearchRequest {
  readonly text: string;
  readonly namespaces?: readonly string[] | undefined;
  readonly limit: number;
}

/** What a {@link ContentSearchRequest} found, each kind in name (or digest) order. @since 0.2.0 */
export interface ContentMatches {
  readonly repositories: readonly { readonly name: string }[];
  readonly tags: readonly { readonly repository: string; readonly tag: string; readonly digest: Digest }[];
  readonly digests: readonly { readonly repository: string; readonly digest: Digest; readonly mediaType: string }[];
}

/**
 * A repository with its counts and sizes.
 * @since 0.2.0
 */
export interface RepositoryInfo {
  readonly name: string;
  /** Manifests stored in the repository (images, indexes, signatures...). */
  readonly artifactCount: number;
  readonly tagCount: number;
  /**
   * Bytes the repository accounts for: the blobs linked to it plus its manifests. A blob shared
   * by several repositories counts in each of them (as quotas count it).
   */
  readonly size: number;
  readonly createdAt: Date;
  /** The latest manifest push or tag change, else the creation time. */
  readonly updatedAt: Date;
}

/**
 * A manifest of a repository, with what a lifecycle policy decides on.
 * @since 0.2.0
 */
export interface ArtifactInfo {
  readonly repository: string;
  readonly digest: Digest;
  readonly mediaType: string;
  readonly artifactType: string | undefined;
  /** Bytes of the manifest itself. */
  readonly manifestSize: number;
  /** The manifest plus every distinct blob (config, layers) it references directly. */
  readonly size: number;
  /** Tags pointing at this manifest, in lexical order. */
  readonly tags: readonly string[];
  /** The manifest this one refers to (a signature's or SBOM's image), if any. */
  readonly subject: Digest | undefined;
  /** For an index: the manifests it lists. Empty otherwise. */
  readonly children: readonly Digest[];
  readonly pushedAt: Date;
  /** The last recorded pull; `undefined` when it was never pulled (or pulls are not recorded). */
  readonly pulledAt: Date | undefined;
}

/**
 * A manifest with its exact bytes.
 * @since 0.2.0
 */
export interface ManifestContent {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly artifactType: string | undefined;
  readonly size: number;
  readonly payload: Buffer;
}

/**
 * A tag and the manifest it points at.
 * @since 0.2.0
 */
export interface TagInfo {
  readonly name: string;
  readonly digest: Digest;
  readonly updatedAt: Date;
}

/**
 * A manifest whose `subject` is another manifest, as the OCI referrers API lists it.
 * @since 0.2.0
 */
export interface ReferrerInfo {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly artifactType: string | undefined;
  readonly size: number;
  readonly annotations: Readonly<Record<string, string>> | undefined;
}

/**
 * A manifest that references some digest: as a blob (`blob`: config or layer), as an index
 * child (`child`) or as its subject (`subject`).
 * @since 0.2.0
 */
export interface ManifestReference {
  readonly repository: string;
  readonly digest: Digest;
  readonly relation: 'blob' | 'child' | 'subject';
}

/**
 * Read access to repositories, artifacts, tags and references. Provided by the kernel as
 * `coreServices.artifacts`. A repository that does not exist reads as empty.
 * @since 0.2.0
 */
export interface ArtifactService {
  /** Repositories in byte-wise name order, with counts and sizes. */
  listRepositories(page?: ContentPageRequest): Promise<ContentPage<RepositoryInfo>>;
  getRepository(name: string): Promise<RepositoryInfo | undefined>;
  /**
   * The repositories of a namespace, optionally matching a search, in byte-wise name order: one
   * numbered page with the total. A `RangeError` for a bad namespace or page.
   */
  findRepositories(search: RepositorySearch): Promise<NumberedPage<RepositoryInfo>>;
  /** The manifests of a repository in digest order, with tags, sizes and times. */
  listArtifacts(repository: string, page?: ContentPageRequest): Promise<ContentPage<ArtifactInfo>>;
  /** The manifests of a repository, newest push first: one numbered page with the total. */
  findArtifacts(repository: string, page: NumberedPageRequest): Promise<NumberedPage<ArtifactInfo>>;
  /** Repositories, tags and digest prefixes matching a text, bounded per kind. A `RangeError` for a bad request. */
  searchContent(request: ContentSearchRequest): Promise<ContentMatches>;
  /** One artifact by tag or digest. */
  getArtifact(repository: string, reference: string): Promise<ArtifactInfo | undefined>;
  /** A manifest's exact bytes by tag or digest (what a pull would get, without negotiation). */
  getManifest(repository: string, reference: string): Promise<ManifestContent | undefined>;
  /** The digest a tag points at. */
  resolveTag(repository: string, tag: string): Promise<Digest | undefined>;
  /** Tags of a repository in byte-wise order. */
  listTags(repository: string, page?: ContentPageRequest): Promise<ContentPage<TagInfo>>;
  /** Manifests of the repository whose subject is `subject`, oldest first. */
  listReferrers(repository: string, subject: Digest, options?: { readonly artifactType?: string }): Promise<readonly ReferrerInfo[]>;
  /**
   * Manifests, in every repository, that reference `digest`: a blob (as config or layer) or a
   * manifest (as index child or subject). GC asks this before it deletes anything.
   */
  listReferencing(digest: Digest, page?: ContentPageRequest): Promise<ContentPage<ManifestReference>>;
}

/**
 * A committed blob as the metadata database records it.
 * @since 0.2.0
 */
export interface BlobInfo {
  readonly digest: Digest;
  readonly size: number;
  /** When the blob was first committed. */
  readonly createdAt: Date;
}

/**
 * A blob with what holds on to it.
 * @since 0.2.0
 */
export interface BlobDetails extends BlobInfo {
  /** Repositories the blob is linked to (pushed or mounted into), in byte-wise order. */
  readonly repositories: readonly string[];
  /** How many manifests reference it; list them with {@link ArtifactService.listReferencing}. */
  readonly referenceCount: number;
}

/**
 * Blobs and what references them, and their bytes. Provided by the kernel as
 * `coreServices.blobs`.
 * @since 0.2.0
 */
export interface BlobService {
  /** The blob's record, links and reference count; `undefined` when it is not recorded. */
  stat(digest: Digest): Promise<BlobDetails | undefined>;
  /** The blob's size when the repository holds it (pushed or mounted there), else `undefined`. */
  inRepository(repository: string, digest: Digest): Promise<{ readonly size: number } | undefined>;
  /**
   * Opens a blob of a repository for reading, streamed from storage, whole or the inclusive
   * `range`. Rejects with a `RegistryError('BLOB_UNKNOWN')` when the repository does not hold it.
   */
  read(repository: string, digest: Digest, options?: { readonly range?: ByteRange }): Promise<{ readonly size: number; readonly stream: Readable }>;
  /** Every recorded blob, in digest order. */
  list(page?: ContentPageRequest): Promise<ContentPage<BlobInfo>>;
  /**
   * Blobs no manifest references, committed and last linked to a repository before
   * `olderThan`, in digest order: the candidates of a garbage collection's mark phase. The
   * window spares blobs of pushes still in progress (their manifest comes last).
   */
  listUnreferenced(olderThan: Date, page?: ContentPageRequest): Promise<ContentPage<BlobInfo>>;
  /**
   * Deletes those of `candidates` (at most 1000) that are still garbage when the kernel looks
   * again under its locks: no manifest references them, no upload commit has reserved them and
   * no repository linked them since `olderThan`. The rest are kept. Safe against concurrent
   * pushes, mounts and manifest PUTs (ADR 0029): the rows are claimed and unlinked in one
   * transaction, then the bytes go in one batched storage delete, then the rows. `run` names
   * the collection in the claims. One collection at a time: the caller holds a lock across nodes.
   * @since 0.2.0
   */
  deleteUnreferenced(candidates: readonly Digest[], options: { readonly olderThan: Date; readonly run: string }): Promise<BlobDeletion>;
  /**
   * Finishes deletions an interrupted collection claimed (a node killed mid-sweep), at most
   * `limit` (default 1000) a call: bytes, then rows. Call it before a new collection marks.
   * @since 0.2.0
   */
  finishInterruptedDeletes(limit?: number): Promise<BlobDeletion>;
}

/**
 * What a blob deletion did.
 * @since 0.2.0
 */
export interface BlobDeletion {
  /** Blobs whose bytes and records are gone. */
  readonly deleted: readonly BlobInfo[];
  /** Candidates kept because they were in use by the time the kernel looked again. */
  readonly kept: number;
}

/**
 * An upload session in progress.
 * @since 0.2.0
 */
export interface UploadInfo {
  readonly id: string;
  readonly repository: string;
  /** Bytes received so far. */
  readonly size: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/**
 * Upload sessions, for cleaning up abandoned ones. Provided by the kernel as
 * `coreServices.uploads`.
 * @since 0.2.0
 */
export interface UploadSessionService {
  /**
   * Uploads not written to since `before`, oldest first, at most `limit` (default 100, at most
   * 1000). Uploads a writer holds right now are never listed.
   */
  listStale(before: Date, limit?: number): Promise<readonly UploadInfo[]>;
  /**
   * Cancels an upload: discards its bytes in storage and its record. Resolves `false` when it
   * does not exist or a writer holds it right now (it is not stale then).
   */
  cancel(id: string): Promise<boolean>;
}

/**
 * On whose behalf a write happens: the principal the policy gates (`registry.beforeManifestPut`,
 * `registry.beforeDelete`) and the events see. Defaults to a system principal named after
 * nothing in particular (`subject: 'system'`); plugins should say who they are.
 * @since 0.2.0
 */
export interface ContentActor {
  readonly principal?: Principal;
  /** Request facts for logs and events; a synthetic one is made when absent. */
  readonly request?: RequestInfo;
}

/**
 * A manifest that was stored.
 * @since 0.2.0
 */
export interface StoredManifest {
  readonly digest: Digest;
  readonly tag: string | undefined;
  readonly mediaType: string;
  readonly artifactType: string | undefined;
  readonly size: number;
  readonly subject: Digest | undefined;
}

/**
 * Options of {@link ContentService.putManifest}.
 * @since 0.2.0
 */
export interface PutManifestOptions {
  /**
   * Store the manifest even though the repository does not hold the blobs and child manifests
   * it references yet (a pull-through cache: they are fetched when first pulled). The references
   * are recorded as usual, so GC, quotas and retention see them once the content arrives; the
   * gates and events are those of any manifest put. A client's push never skips the check.
   */
  readonly lazyReferences?: boolean;
}

/**
 * Writing into the registry exactly as a client push or delete would: digests verified,
 * manifests parsed and their references checked, the `registry.before*` gates run, and the
 * registry events (`blobCommitted`, `manifestPushed`, `manifestDeleted`) raised. Failures are
 * `RegistryError`s with OCI codes, and a failed write leaves nothing behind. Provided by the
 * kernel as `coreServices.content`.
 * @since 0.2.0
 */
export interface ContentService {
  /**
   * Stores a blob from a stream and links it to the repository. The bytes are streamed to
   * storage and hashed on the way; they are never held whole in memory. With `size` given, a
   * stream of another length fails with `SIZE_INVALID`; a digest mismatch fails with
   * `DIGEST_INVALID`.
   */
  putBlob(repository: string, blob: { readonly digest: Digest; readonly size?: number; readonly data: Readable }, actor?: ContentActor): Promise<{ readonly size: number }>;
  /**
   * Links a blob that `fromRepository` holds into `repository` without copying it. Resolves
   * `false` when `fromRepository` does not hold it.
   */
  mountBlob(repository: string, digest: Digest, fromRepository: string, actor?: ContentActor): Promise<boolean>;
  /**
   * Stores a manifest's exact bytes under `reference`, a tag or its digest, as a manifest PUT
   * does. Unknown referenced blobs or manifests fail with `MANIFEST_BLOB_UNKNOWN`, unless
   * `options.lazyReferences` (a pull-through cache) records them to be fetched later.
   */
  putManifest(repository: string, reference: string, manifest: { readonly payload: Buffer; readonly mediaType: string | undefined }, actor?: ContentActor, options?: PutManifestOptions): Promise<StoredManifest>;
  /**
   * Deletes a manifest and every tag pointing at it. Fails with `MANIFEST_UNKNOWN` when absent,
   * and with `UNSUPPORTED` when the registry's configuration disables deletes.
   */
  deleteManifest(repository: string, digest: Digest, actor?: ContentActor): Promise<void>;
  /** Deletes one tag; the manifest stays. Same failures as {@link ContentService.deleteManifest}. */
  deleteTag(repository: string, tag: string, actor?: ContentActor): Promise<{ readonly digest: Digest }>;
  /**
   * Deletes a repository: every manifest and tag, its blob links and the repository itself, in
   * one transaction that records `registry.manifest.deleted` for each manifest and
   * `registry.repository.deleted`. `registry.beforeDelete` is asked about each manifest first;
   * one refusal deletes nothing. Blobs stay for garbage collection. Fails with `NAME_UNKNOWN`
   * when the repository does not exist, `UNSUPPORTED` when deletes are disabled, and `DENIED`
   * (409) when a push added a manifest meanwhile (nothing deleted; try again).
   * @since 0.2.0
   */
  deleteRepository(repository: string, actor?: ContentActor): Promise<{ readonly artifacts: number }>;
}
