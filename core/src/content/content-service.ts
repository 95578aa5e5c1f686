import {
  RegistryError,
  type ContentActor,
  type ContentService,
  type KernelHooks,
  type Principal,
  type RequestInfo,
  type StorageDriver,
} from '@wharf/sdk';
import type { Logger } from 'pino';
import type { EventRecorder } from '../events/events-runtime.js';
import type { MetadataStore } from '../metadata/types.js';
import { ManifestService } from '../registry/manifest-service.js';
import { assertRepositoryName, parseReference, requireDigest } from '../registry/names.js';
import { UploadService } from '../registry/upload-service.js';
import { contentEvents } from './events.js';
import { deleteRepository } from './delete-repository.js';

/**
 * `coreServices.content`: writes into the registry through the services the OCI routes use
 * (`UploadService` for blobs, `ManifestService` for manifests and deletes), so a plugin's write
 * gets the same digest checks, reference checks, policy gates and events as a client's push.
 */

export interface ContentServiceDeps {
  readonly metadata: MetadataStore;
  readonly storage: StorageDriver;
  readonly hooks: KernelHooks;
  readonly logger: Logger;
  readonly registry: { readonly deleteEnabled: boolean; readonly maxManifestBytes: number; readonly uploadLeaseMs: number };
  /** Durable events, recorded with each change as for a client's push. */
  readonly recorder: EventRecorder;
}

/** Who writes when the caller does not say: the kernel itself. */
export const SYSTEM_PRINCIPAL: Principal = Object.freeze({
  subject: 'system',
  kind: 'system',
  provider: 'kernel',
  admin: true,
  groups: Object.freeze([]) as readonly string[],
});

export function createContentService(deps: ContentServiceDeps): ContentService {
  const { metadata, storage, hooks, logger, registry, recorder } = deps;
  const manifests = new ManifestService({ metadata, hooks, deleteEnabled: registry.deleteEnabled, events: recorder });
  const uploads = new UploadService({ storage, metadata, logger, leaseMs: registry.uploadLeaseMs, events: recorder, hooks });
  const events = contentEvents(hooks, logger);

  // The request a client would have sent for the same change, so gates and audit read alike.
  const who = (actor: ContentActor | undefined, method: string, path: string): { principal: Principal; request: RequestInfo } => ({
    principal: actor?.principal ?? SYSTEM_PRINCIPAL,
    request: actor?.request ?? { requestId: `content-${crypto.randomUUID()}`, ip: '127.0.0.1', method, path, userAgent: 'wharf-kernel' },
  });

  const service: ContentService = {
    async putBlob(repository, blob, actor) {
      assertRepositoryName(repository);
      const digest = requireDigest(blob.digest);
      if (blob.size !== undefined && (!Number.isSafeInteger(blob.size) || blob.size < 0)) {
        blob.data.destroy();
        throw new RegistryError('SIZE_INVALID', 'blob size must be a non-negative integer', { status: 400 });
      }
      const upload = await uploads.start(repository);
      const w = who(actor, 'PUT', `/v2/${repository}/blobs/uploads/${upload.id}`);
      let size: number;
      try {
        ({ size } = await uploads.finish(repository, upload.id, digest, blob.data, { range: undefined, length: blob.size }, w));
      } catch (err) {
        blob.data.destroy();
        // A digest mismatch already discarded the upload; anything else leaves it to discard here.
        await uploads.cancel(repository, upload.id).catch(() => undefined);
        throw err;
      }
      events.blobCommitted({ repository, actor: w.principal, request: w.request, digest, size, mounted: false });
      return { size };
    },

    async mountBlob(repository, digest, fromRepository, actor) {
      assertRepositoryName(repository);
      assertRepositoryName(fromRepository);
      const checked = requireDigest(digest);
      const w = who(actor, 'POST', `/v2/${repository}/blobs/uploads/`);
      const blob = await uploads.mount(repository, fromRepository, checked, w);
      if (!blob) return false;
      events.blobCommitted({ repository, actor: w.principal, request: w.request, digest: checked, size: blob.size, mounted: true });
      return true;
    },

    async putManifest(repository, reference, manifest, actor, options) {
      assertRepositoryName(repository);
      const ref = parseReference(reference);
      if (manifest.payload.length > registry.maxManifestBytes) {
        throw new RegistryError('MANIFEST_INVALID', `manifest is larger than ${registry.maxManifestBytes} bytes`, { status: 413, detail: { limit: registry.maxManifestBytes } });
      }
      const w = who(actor, 'PUT', `/v2/${repository}/manifests/${reference}`);
      const stored = await manifests.put(repository, ref, manifest.payload, manifest.mediaType, w, { lazyReferences: options?.lazyReferences === true });
      const { mediaType, artifactType, subject } = stored.parsed;
      events.manifestPushed({ repository, actor: w.principal, request: w.request, digest: stored.digest, tag: stored.tag, mediaType, artifactType, size: stored.size, subject });
      return { digest: stored.digest, tag: stored.tag, mediaType, artifactType, size: stored.size, subject };
    },

    async deleteManifest(repository, digest, actor) {
      assertRepositoryName(repository);
      const checked = requireDigest(digest);
      const w = who(actor, 'DELETE', `/v2/${repository}/manifests/${checked}`);
      const deleted = await manifests.delete(repository, { kind: 'digest', digest: checked }, w);
      events.manifestDeleted({ repository, actor: w.principal, request: w.request, digest: deleted.digest, tag: undefined });
    },

    async deleteTag(repository, tag, actor) {
      assertRepositoryName(repository);
      const ref = parseReference(tag);
      if (ref.kind !== 'tag') throw new RegistryError('TAG_INVALID', 'expected a tag, got a digest', { status: 400 });
      const w = who(actor, 'DELETE', `/v2/${repository}/manifests/${ref.tag}`);
      const deleted = await manifests.delete(repository, ref, w);
      events.manifestDeleted({ repository, actor: w.principal, request: w.request, digest: deleted.digest, tag: ref.tag });
      return { digest: deleted.digest };
    },

    async deleteRepository(repository, actor) {
      assertRepositoryName(repository);
      const w = who(actor, 'DELETE', `/api/v1/repositories/${repository}`);
      const digests = await deleteRepository({ metadata, hooks, recorder, manifests }, repository, w);
      for (const digest of digests) events.manifestDeleted({ repository, actor: w.principal, request: w.request, digest, tag: undefined });
      return { artifacts: digests.length };
    },
  };
  return Object.freeze(service);
}
