import { randomUUID } from 'node:crypto';
import { isUploadId, type StorageDriver, type UploadSessionService } from '@wharf/sdk';
import type { MetadataStore } from '../metadata/types.js';
import { contentLimit } from '../metadata/content-pages.js';

/** How long cancelling holds an upload's lease: long enough to abort and delete it. */
const CANCEL_LEASE_MS = 60_000;

/**
 * `coreServices.uploads`: stale upload sessions and their cleanup. Cancelling takes the upload's
 * write lease first, like every writer does, so it never pulls an upload from under a client
 * that is still sending bytes.
 */
export function createUploadSessionService(metadata: MetadataStore, storage: StorageDriver): UploadSessionService {
  const service: UploadSessionService = {
    async listStale(before, limit) {
      const uploads = await metadata.listStaleUploads(before, contentLimit({ limit: limit ?? 100 }));
      return uploads.map((u) => ({ id: u.id, repository: u.repository, size: u.state.size, createdAt: u.createdAt, updatedAt: u.updatedAt }));
    },
    async cancel(id) {
      if (!isUploadId(id)) return false;
      const holder = randomUUID();
      if (!(await metadata.acquireUploadLease(id, holder, CANCEL_LEASE_MS))) return false;
      const upload = await metadata.getUpload(id);
      if (!upload) return false;
      try {
        await storage.abort(id, upload.state);
      } catch (err) {
        await metadata.releaseUploadLease(id, holder).catch(() => undefined);
        throw err;
      }
      await metadata.deleteUpload(id);
      return true;
    },
  };
  return Object.freeze(service);
}
