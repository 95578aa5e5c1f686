import type { ArtifactService, BlobService, ContentService, UploadSessionService } from '@wharf/sdk';
import { createArtifactService } from './artifact-service.js';
import { createBlobService } from './blob-service.js';
import { createContentService, type ContentServiceDeps } from './content-service.js';
import { createUploadSessionService } from './upload-session-service.js';

/**
 * The kernel's content services for plugins (`coreServices.artifacts`, `blobs`, `uploads`,
 * `content`), built over the metadata store, the storage driver and the registry services.
 */

export interface ContentServices {
  readonly artifacts: ArtifactService;
  readonly blobs: BlobService;
  readonly uploads: UploadSessionService;
  readonly content: ContentService;
}

export function createContentServices(deps: ContentServiceDeps): ContentServices {
  return Object.freeze({
    artifacts: createArtifactService(deps.metadata),
    blobs: createBlobService(deps.metadata, deps.storage),
    uploads: createUploadSessionService(deps.metadata, deps.storage),
    content: createContentService(deps),
  });
}

export { SYSTEM_PRINCIPAL, type ContentServiceDeps } from './content-service.js';
export { createArtifactService, createBlobService, createContentService, createUploadSessionService };
