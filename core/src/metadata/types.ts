import type { Knex } from 'knex';
import type {
  ArtifactInfo,
  BlobDetails,
  BlobInfo,
  ContentPage,
  ContentPageRequest,
  Digest,
  ManifestReference,
  NumberedPageRequest,
  RepositoryInfo,
  RepositorySearch,
  TagInfo,
} from '@wharf/sdk';
import type { PullRecord } from './pulls.js';
import type { DeleteRepositoryResult } from './repository-delete.js';
import type { Reservation } from './blob-deletion.js';

/** A numbered page request (the SDK's shape): for listings a person pages through. */
export type NumberedPage = NumberedPageRequest;
export type { RepositorySearch };

/**
 * The metadata store: the database is the index, storage holds the bytes. Every fact a registry
 * node needs about repositories, manifests, tags, references and uploads lives here, so nodes
 * stay stateless and garbage collection can run online from recorded references.
 * @see docs/architecture/03-services.md
 */

/** Which database, and how to reach it. */
export type DatabaseConfig =
  | { client: 'sqlite'; filename: string }
  | { client: 'postgres'; connection: string | Record<string, unknown>; pool?: { min?: number; max?: number } }
  | { client: 'mysql'; connection: string | Record<string, unknown>; pool?: { min?: number; max?: number } };

/**
 * Writes more rows inside a store method's transaction: the durable events that describe the
 * change, so they commit (or roll back) with it.
 */
export type RecordInTransaction = (trx: Knex.Transaction) => Promise<void>;

/** A stored manifest. */
export interface ManifestRecord {
  readonly repository: string;
  readonly digest: Digest;
  readonly mediaType: string;
  readonly artifactType: string | undefined;
  readonly size: number;
  readonly payload: Buffer;
  readonly subject: Digest | undefined;
  readonly createdAt: Date;
}

/** A manifest that names a subject, as the referrers API lists it. */
export interface ReferrerRecord {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly artifactType: string | undefined;
  readonly size: number;
  readonly annotations: Record<string, string> | undefined;
}

/** What a manifest PUT stores, in one transaction. */
export interface ManifestInput {
  readonly repository: string;
  readonly digest: Digest;
  readonly mediaType: string;
  readonly artifactType: string | undefined;
  readonly payload: Buffer;
  readonly subject: Digest | undefined;
  readonly annotations: Record<string, string> | undefined;
  /** Blobs the manifest references (config and layers); each must be linked to the repository. */
  readonly blobRefs: readonly Digest[];
  /** Manifests the manifest references (index children); each must exist in the repository. */
  readonly manifestRefs: readonly Digest[];
  /** Tag to point at this manifest, if pushed by tag. */
  readonly tag: string | undefined;
  /** Record the references without requiring the content (a pull-through cache fetches it later). */
  readonly lazyReferences?: boolean;
}

export type { PullRecord };

/** Outcome of {@link MetadataStore.putManifest}. */
export type PutManifestResult =
  | { ok: true; created: boolean }
  | { ok: false; missingBlobs: Digest[]; missingManifests: Digest[] };

/** An upload session. */
export interface UploadRecord {
  readonly id: string;
  readonly repository: string;
  /** The storage driver's JSON state, including `size`. */
  readonly state: { size: number; [key: string]: unknown };
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A page request: up to `n` names strictly after `last`, in lexical order. */
export interface PageRequest {
  readonly n: number;
  readonly last: string | undefined;
}

/**
 * All metadata operations. Implementations must be safe for many processes sharing one
 * database: no state that matters is kept in memory.
 */
export interface MetadataStore {
  /** Runs pending migrations. Idempotent; safe when several nodes start at once. */
  migrate(): Promise<void>;
  /** Cheap connectivity check (`select 1`). */
  ping(): Promise<void>;
  close(): Promise<void>;

  // Repositories
  /** Repository names in lexical order (the `_catalog`). */
  listRepositories(page: PageRequest): Promise<string[]>;
  repositoryExists(name: string): Promise<boolean>;
  /**
   * Repositories named `<namespace>/...` (any depth) in lexical order, one page (1-based, at
   * most 1000 per page) with the total count: the kernel's `coreServices.repositories`.
   */
  listNamespaceRepositories(namespace: string, page: { readonly page: number; readonly pageSize: number }): Promise<{ items: string[]; total: number }>;

  // Blobs
  /**
   * Records a committed blob (global, content-addressed) and links it to a repository, or
   * refreshes the link's time. Resolves `false`, writing nothing, when a collector has claimed
   * the blob for deletion, or (with `mount`) when the blob is not recorded (ADR 0029).
   */
  linkBlob(repository: string, digest: Digest, size: number, record?: RecordInTransaction, options?: { readonly mount?: boolean; readonly reservation?: string }): Promise<boolean>;
  /**
   * Before an upload commit moves bytes into place: reserves the digest for `leaseMs` so no
   * collector claims it, or answers `deleting` when one already has (ADR 0029). `linkBlob`
   * with the holder (`reservation`) ends it; `releaseReservation` when the commit fails.
   */
  reserveBlob(digest: Digest, size: number, leaseMs: number): Promise<Reservation>;
  releaseReservation(holder: string): Promise<void>;
  /**
   * Claims those of `candidates` (at most 1000) that are still unreferenced, unreserved and
   * not linked since `olderThan`, deleting their links, in one transaction (ADR 0029).
   */
  claimBlobs(candidates: readonly Digest[], olderThan: Date, run: string): Promise<BlobInfo[]>;
  /** Blobs claimed for deletion whose rows remain (an interrupted collection), at most `limit`. */
  listClaimedBlobs(limit: number): Promise<BlobInfo[]>;
  /** Deletes the rows of claimed blobs whose bytes are gone; resolves how many went. */
  dropClaimedBlobs(digests: readonly Digest[]): Promise<number>;
  /** The blob's size when it is linked to the repository, else `undefined`. */
  getLinkedBlob(repository: string, digest: Digest): Promise<{ size: number } | undefined>;
  /** The blob's size when any repository links it (used for cross-repository mounts). */
  getBlob(digest: Digest): Promise<{ size: number } | undefined>;
  /** Removes a blob's link from a repository. Resolves `false` when it was not linked. */
  unlinkBlob(repository: string, digest: Digest): Promise<boolean>;

  // Manifests and tags
  /**
   * Stores a manifest, its references, its subject and its tag in one transaction, creating the
   * repository if needed. References that are missing fail the whole put (nothing stored).
   * Storing an existing digest again only (re)points the tag. `record` runs last, in the same
   * transaction (not when references are missing).
   */
  putManifest(input: ManifestInput, record?: RecordInTransaction): Promise<PutManifestResult>;
  getManifest(repository: string, digest: Digest): Promise<ManifestRecord | undefined>;
  /** The digest a tag points at. */
  resolveTag(repository: string, tag: string): Promise<Digest | undefined>;
  /** Tags of a repository in lexical order; `undefined` when the repository does not exist. */
  listTags(repository: string, page: PageRequest): Promise<string[] | undefined>;
  /** Deletes a manifest, every tag pointing at it, and its references. `false` if unknown. */
  deleteManifest(repository: string, digest: Digest, record?: RecordInTransaction): Promise<boolean>;
  /** Deletes one tag (the manifest stays). `false` if unknown. */
  deleteTag(repository: string, tag: string, record?: RecordInTransaction): Promise<boolean>;
  /** Manifests of the repository whose `subject` is `digest`, optionally of one artifact type. */
  listReferrers(repository: string, subject: Digest, artifactType: string | undefined): Promise<ReferrerRecord[]>;

  // Uploads
  /** `owner` names who opened it (bounded per owner, see `countOpenUploads`). */
  createUpload(upload: { id: string; repository: string; state: UploadRecord['state']; owner?: string | undefined }): Promise<void>;
  /** How many uploads are open in a repository, or held by an owner. */
  countOpenUploads(where: { repository: string } | { owner: string }): Promise<number>;
  getUpload(id: string): Promise<UploadRecord | undefined>;
  /**
   * Replaces an upload's state only if its recorded size is still `expectedSize`
   * (compare-and-set, so two writers can never both append at the same offset).
   */
  updateUpload(id: string, expectedSize: number, state: UploadRecord['state']): Promise<boolean>;
  /**
   * Takes the upload's write lease for `ttlMs` if nobody holds it (or it expired). One writer at
   * a time across all nodes. Resolves `false` when another writer holds it.
   */
  acquireUploadLease(id: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseUploadLease(id: string, holder: string): Promise<void>;
  deleteUpload(id: string): Promise<void>;
  /** Uploads not touched since `before` (for cleanup of abandoned uploads). */
  listStaleUploads(before: Date, limit: number): Promise<UploadRecord[]>;

  // Content views (coreServices.artifacts / blobs): keyset pages of at most 1000.
  /** Repositories with counts, sizes and times, in byte-wise name order. */
  listRepositorySummaries(page: ContentPageRequest | undefined): Promise<ContentPage<RepositoryInfo>>;
  getRepositorySummary(name: string): Promise<RepositoryInfo | undefined>;
  /** Repositories of a namespace (optionally matching a search), one numbered page with the total. */
  findRepositorySummaries(query: RepositorySearch): Promise<{ items: RepositoryInfo[]; total: number }>;
  /** A repository's artifacts, newest push first, one numbered page with the total. */
  findArtifacts(repository: string, page: NumberedPage): Promise<{ items: ArtifactInfo[]; total: number }>;
  /**
   * Deletes a repository (tags, manifests, references, blob links, the row) when it holds
   * exactly the manifests `expected`; `record` runs in the same transaction. Blobs stay for GC.
   */
  deleteRepository(name: string, expected: readonly Digest[], record?: RecordInTransaction): Promise<DeleteRepositoryResult>;
  /** The manifests of a repository in digest order, with tags, sizes, children and times. */
  listArtifacts(repository: string, page: ContentPageRequest | undefined): Promise<ContentPage<ArtifactInfo>>;
  getArtifact(repository: string, digest: Digest): Promise<ArtifactInfo | undefined>;
  /** Tags with the digest each points at, in byte-wise order. */
  listTagDetails(repository: string, page: ContentPageRequest | undefined): Promise<ContentPage<TagInfo>>;
  /** Manifests in any repository that reference `digest` as blob, index child or subject. */
  listReferencing(digest: Digest, page: ContentPageRequest | undefined): Promise<ContentPage<ManifestReference>>;
  /** A blob's record with its links and reference count. */
  getBlobDetails(digest: Digest): Promise<BlobDetails | undefined>;
  listBlobs(page: ContentPageRequest | undefined): Promise<ContentPage<BlobInfo>>;
  /** Blobs no manifest references, committed and last linked before `olderThan` (GC marking). */
  listUnreferencedBlobs(olderThan: Date, page: ContentPageRequest | undefined): Promise<ContentPage<BlobInfo>>;
  /**
   * Records pulls: sets each manifest's `pulled_at` to the latest time given for it (never
   * earlier than what is stored), in one statement per few hundred pulls. Unknown manifests
   * are skipped. With `trx`, inside it (the transaction of the pull events' group commit).
   */
  recordPulls(batch: readonly PullRecord[], trx?: Knex.Transaction): Promise<void>;
}
