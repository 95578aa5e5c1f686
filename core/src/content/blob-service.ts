import { RegistryError, type BlobDeletion, type BlobInfo, type BlobService, type CommittedBlob, type Digest, type StorageDriver } from '@wharf/sdk';
import type { MetadataStore } from '../metadata/types.js';
import { requireDigest } from '../registry/names.js';

/** Most candidates one deletion takes: one claim transaction, one storage request on S3. */
const MAX_BATCH = 1000;

/** `coreServices.blobs`: blob records from the metadata store, bytes from the storage driver. */
export function createBlobService(metadata: MetadataStore, storage: StorageDriver): BlobService {
  /** Bytes first, rows last: a row without bytes is never left usable, bytes without a row are swept again. */
  async function sweep(claimed: readonly BlobInfo[]): Promise<void> {
    if (claimed.length === 0) return;
    await deleteBytes(claimed);
    await metadata.dropClaimedBlobs(claimed.map((b) => b.digest));
  }
  /** Blobs whose commits are all recorded go by name (ADR 0037), the rest by digest. */
  async function deleteBytes(claimed: readonly BlobInfo[]): Promise<void> {
    if (!storage.deleteCommitted) return storage.delete(claimed.map((b) => b.digest));
    const uploads = await metadata.committedUploads(claimed.map((b) => b.digest));
    const named: CommittedBlob[] = [];
    const looked: Digest[] = [];
    for (const b of claimed) {
      const ids = uploads.get(b.digest);
      if (ids) named.push({ digest: b.digest, size: b.size, uploads: ids });
      else looked.push(b.digest);
    }
    if (named.length > 0) await storage.deleteCommitted(named);
    if (looked.length > 0) await storage.delete(looked);
  }
  const service: BlobService = {
    stat: async (digest) => metadata.getBlobDetails(requireDigest(digest)),
    inRepository: async (repository, digest) => metadata.getLinkedBlob(repository, requireDigest(digest)),
    async read(repository, digest, options) {
      const checked = requireDigest(digest);
      const linked = await metadata.getLinkedBlob(repository, checked);
      if (!linked) throw new RegistryError('BLOB_UNKNOWN', undefined, { detail: { digest: checked } });
      const range = options?.range;
      if (range && (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.end) || range.start < 0 || range.end < range.start || range.end >= linked.size)) {
        throw new RegistryError('RANGE_INVALID', 'range is outside the blob', { status: 416, detail: { size: linked.size } });
      }
      const stream = await storage.read(checked, range);
      return { size: range ? range.end - range.start + 1 : linked.size, stream };
    },
    list: (page) => metadata.listBlobs(page),
    listUnreferenced: (olderThan, page) => metadata.listUnreferencedBlobs(olderThan, page),
    async deleteUnreferenced(candidates, options): Promise<BlobDeletion> {
      if (candidates.length > MAX_BATCH) throw new RangeError(`at most ${MAX_BATCH} candidates a call`);
      if (typeof options.run !== 'string' || options.run === '' || options.run.length > 64) throw new RangeError('run must be 1 to 64 characters');
      const digests = [...new Set(candidates.map((d) => requireDigest(d)))];
      const claimed = await metadata.claimBlobs(digests, options.olderThan, options.run);
      await sweep(claimed);
      return { deleted: claimed, kept: digests.length - claimed.length };
    },
    async finishInterruptedDeletes(limit = MAX_BATCH): Promise<BlobDeletion> {
      const claimed = await metadata.listClaimedBlobs(Math.min(Math.max(1, Math.floor(limit)), MAX_BATCH));
      await sweep(claimed);
      return { deleted: claimed, kept: 0 };
    },
  };
  return Object.freeze(service);
}
