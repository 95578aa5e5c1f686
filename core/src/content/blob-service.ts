import { RegistryError, type BlobService, type StorageDriver } from '@wharf/sdk';
import type { MetadataStore } from '../metadata/types.js';
import { requireDigest } from '../registry/names.js';

/** `coreServices.blobs`: blob records from the metadata store, bytes from the storage driver. */
export function createBlobService(metadata: MetadataStore, storage: StorageDriver): BlobService {
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
  };
  return Object.freeze(service);
}
