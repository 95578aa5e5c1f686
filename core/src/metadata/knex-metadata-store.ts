import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type {
  ArtifactInfo,
  BlobDetails,
  BlobInfo,
  ContentPage,
  ContentPageRequest,
  Digest,
  ManifestReference,
  RepositoryInfo,
  TagInfo,
  ContentMatches,
  ContentSearchRequest,
} from '@wharf/sdk';
import type {
  ManifestInput,
  ManifestRecord,
  MetadataStore,
  NumberedPage,
  PageRequest,
  PullRecord,
  PutManifestResult,
  RecordInTransaction,
  ReferrerRecord,
  RepositorySearch,
  UploadRecord,
} from './types.js';
import { dialectOf } from './connection.js';
import { runMigrations, type MigrateOptions } from './migrator.js';
import type { StoreContext } from './sql.js';
import * as repos from './repositories-blobs.js';
import * as deletion from './blob-deletion.js';
import type { Reservation } from './blob-deletion.js';
import * as manifests from './manifests-tags.js';
import * as referrers from './referrers.js';
import * as uploads from './uploads.js';
import * as summaries from './repository-summaries.js';
import * as artifacts from './artifacts.js';
import * as blobIndex from './blob-index.js';
import { recordPulls } from './pulls.js';
import { findArtifacts } from './artifact-listing.js';
import { searchContent } from './content-search.js';
import { deleteRepository, type DeleteRepositoryResult } from './repository-delete.js';

export interface KnexMetadataStoreOptions extends MigrateOptions {
  /** Called when the store closes, instead of destroying the knex instance itself. */
  readonly release?: () => Promise<void>;
  /** Epoch milliseconds; tests may pin it. */
  readonly now?: () => number;
}

/**
 * The {@link MetadataStore} on knex, for SQLite, PostgreSQL and MySQL/MariaDB. It keeps nothing
 * in memory that another node would need; each method is one statement or one transaction.
 */
export class KnexMetadataStore implements MetadataStore {
  readonly #ctx: StoreContext;
  readonly #logger: Logger;
  readonly #options: KnexMetadataStoreOptions;
  #closed = false;

  constructor(knex: Knex, logger: Logger, options: KnexMetadataStoreOptions = {}) {
    this.#ctx = { knex, dialect: dialectOf(knex), now: options.now ?? Date.now };
    this.#logger = logger;
    this.#options = options;
  }

  /** The underlying knex instance (for the jobs service and plugins' own tables in core). */
  get knex(): Knex {
    return this.#ctx.knex;
  }

  migrate(): Promise<void> {
    return runMigrations(this.#ctx.knex, this.#logger, this.#options);
  }

  async ping(): Promise<void> {
    await this.#ctx.knex.raw('select 1');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await (this.#options.release ? this.#options.release() : this.#ctx.knex.destroy());
  }

  listRepositories(page: PageRequest): Promise<string[]> {
    return repos.listRepositories(this.#ctx, page);
  }

  repositoryExists(name: string): Promise<boolean> {
    return repos.repositoryExists(this.#ctx, name);
  }

  listNamespaceRepositories(namespace: string, page: { readonly page: number; readonly pageSize: number }): Promise<{ items: string[]; total: number }> {
    return repos.listNamespaceRepositories(this.#ctx, namespace, page);
  }

  linkBlob(repository: string, digest: Digest, size: number, record?: RecordInTransaction, options?: { readonly mount?: boolean; readonly reservation?: string }): Promise<boolean> {
    return repos.linkBlob(this.#ctx, repository, digest, size, record, options);
  }

  reserveBlob(digest: Digest, size: number, leaseMs: number, uploadId?: string): Promise<Reservation> {
    return deletion.reserveBlob(this.#ctx, digest, size, leaseMs, uploadId);
  }

  releaseReservation(holder: string): Promise<void> {
    return deletion.releaseReservation(this.#ctx, holder);
  }

  claimBlobs(candidates: readonly Digest[], olderThan: Date, run: string): Promise<BlobInfo[]> {
    const before = olderThan.getTime();
    if (!Number.isFinite(before)) throw new RangeError('olderThan must be a valid date');
    return deletion.claimBlobs(this.#ctx, candidates, before, run);
  }

  listClaimedBlobs(limit: number): Promise<BlobInfo[]> {
    return deletion.listClaimedBlobs(this.#ctx, limit);
  }

  dropClaimedBlobs(digests: readonly Digest[]): Promise<number> {
    return deletion.dropClaimedBlobs(this.#ctx, digests);
  }

  committedUploads(digests: readonly Digest[]): Promise<Map<Digest, string[]>> {
    return deletion.committedUploads(this.#ctx, digests);
  }

  getLinkedBlob(repository: string, digest: Digest): Promise<{ size: number } | undefined> {
    return repos.getLinkedBlob(this.#ctx, repository, digest);
  }

  getBlob(digest: Digest): Promise<{ size: number } | undefined> {
    return repos.getBlob(this.#ctx, digest);
  }

  unlinkBlob(repository: string, digest: Digest): Promise<boolean> {
    return repos.unlinkBlob(this.#ctx, repository, digest);
  }

  putManifest(input: ManifestInput, record?: RecordInTransaction): Promise<PutManifestResult> {
    return manifests.putManifest(this.#ctx, input, record);
  }

  getManifest(repository: string, digest: Digest): Promise<ManifestRecord | undefined> {
    return manifests.getManifest(this.#ctx, repository, digest);
  }

  resolveTag(repository: string, tag: string): Promise<Digest | undefined> {
    return manifests.resolveTag(this.#ctx, repository, tag);
  }

  listTags(repository: string, page: PageRequest): Promise<string[] | undefined> {
    return manifests.listTags(this.#ctx, repository, page);
  }

  deleteManifest(repository: string, digest: Digest, record?: RecordInTransaction): Promise<boolean> {
    return manifests.deleteManifest(this.#ctx, repository, digest, record);
  }

  deleteTag(repository: string, tag: string, record?: RecordInTransaction): Promise<boolean> {
    return manifests.deleteTag(this.#ctx, repository, tag, record);
  }

  listReferrers(repository: string, subject: Digest, artifactType: string | undefined): Promise<ReferrerRecord[]> {
    return referrers.listReferrers(this.#ctx, repository, subject, artifactType);
  }

  createUpload(upload: { id: string; repository: string; state: UploadRecord['state']; owner?: string | undefined }): Promise<void> {
    return uploads.createUpload(this.#ctx, upload);
  }

  countOpenUploads(where: { repository: string } | { owner: string }): Promise<number> {
    return uploads.countOpenUploads(this.#ctx, where);
  }

  getUpload(id: string): Promise<UploadRecord | undefined> {
    return uploads.getUpload(this.#ctx, id);
  }

  updateUpload(id: string, expectedSize: number, state: UploadRecord['state']): Promise<boolean> {
    return uploads.updateUpload(this.#ctx, id, expectedSize, state);
  }

  acquireUploadLease(id: string, holder: string, ttlMs: number): Promise<boolean> {
    return uploads.acquireUploadLease(this.#ctx, id, holder, ttlMs);
  }

  releaseUploadLease(id: string, holder: string): Promise<void> {
    return uploads.releaseUploadLease(this.#ctx, id, holder);
  }

  deleteUpload(id: string): Promise<void> {
    return uploads.deleteUpload(this.#ctx, id);
  }

  listStaleUploads(before: Date, limit: number): Promise<UploadRecord[]> {
    return uploads.listStaleUploads(this.#ctx, before, limit);
  }

  listRepositorySummaries(page: ContentPageRequest | undefined): Promise<ContentPage<RepositoryInfo>> {
    return summaries.listRepositorySummaries(this.#ctx, page);
  }

  getRepositorySummary(name: string): Promise<RepositoryInfo | undefined> {
    return summaries.getRepositorySummary(this.#ctx, name);
  }

  findRepositorySummaries(query: RepositorySearch): Promise<{ items: RepositoryInfo[]; total: number }> {
    return summaries.findRepositorySummaries(this.#ctx, query);
  }

  findArtifacts(repository: string, page: NumberedPage): Promise<{ items: ArtifactInfo[]; total: number }> {
    return findArtifacts(this.#ctx, repository, page);
  }

  searchContent(request: ContentSearchRequest): Promise<ContentMatches> {
    return searchContent(this.#ctx, request);
  }

  deleteRepository(name: string, expected: readonly Digest[], record?: RecordInTransaction): Promise<DeleteRepositoryResult> {
    return deleteRepository(this.#ctx, name, expected, record);
  }

  listArtifacts(repository: string, page: ContentPageRequest | undefined): Promise<ContentPage<ArtifactInfo>> {
    return artifacts.listArtifacts(this.#ctx, repository, page);
  }

  getArtifact(repository: string, digest: Digest): Promise<ArtifactInfo | undefined> {
    return artifacts.getArtifact(this.#ctx, repository, digest);
  }

  listTagDetails(repository: string, page: ContentPageRequest | undefined): Promise<ContentPage<TagInfo>> {
    return summaries.listTagDetails(this.#ctx, repository, page);
  }

  listReferencing(digest: Digest, page: ContentPageRequest | undefined): Promise<ContentPage<ManifestReference>> {
    return artifacts.listReferencing(this.#ctx, digest, page);
  }

  getBlobDetails(digest: Digest): Promise<BlobDetails | undefined> {
    return blobIndex.getBlobDetails(this.#ctx, digest);
  }

  listBlobs(page: ContentPageRequest | undefined): Promise<ContentPage<BlobInfo>> {
    return blobIndex.listBlobs(this.#ctx, page);
  }

  listUnreferencedBlobs(olderThan: Date, page: ContentPageRequest | undefined): Promise<ContentPage<BlobInfo>> {
    return blobIndex.listUnreferencedBlobs(this.#ctx, olderThan, page);
  }

  recordPulls(batch: readonly PullRecord[], trx?: Knex.Transaction): Promise<void> {
    return recordPulls(trx ? { ...this.#ctx, knex: trx } : this.#ctx, batch);
  }
}
