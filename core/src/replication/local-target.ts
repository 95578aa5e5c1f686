import { Readable } from 'node:stream';
import {
  ReplicationTargetError,
  RegistryError,
  type ContentDescriptor,
  type Digest,
  type KernelHooks,
  type ManifestInfo,
  type Principal,
  type RemoteManifest,
  type ReplicationTarget,
  type RequestInfo,
  type StorageDriver,
  type WriteBlobOptions,
} from '@wharf/sdk';
import type { Logger } from 'pino';
import type { EventRecorder } from '../events/events-runtime.js';
import type { MetadataStore } from '../metadata/types.js';
import { ManifestService } from '../registry/manifest-service.js';
import { parseReference } from '../registry/names.js';
import { UploadService } from '../registry/upload-service.js';

/**
 * This registry as a replication target: the source side of push policies and the destination
 * of pull policies. It goes through the same services as the OCI routes (digest verification,
 * reference checks, policy gates), without HTTP, and fires the same registry events.
 */

/** Who the engine acts as when it writes into this registry. */
export const REPLICATION_PRINCIPAL: Principal = Object.freeze({
  subject: 'replication',
  kind: 'system',
  provider: 'kernel',
  admin: true,
  groups: Object.freeze([]) as unknown as string[],
});

export interface LocalTargetDeps {
  readonly metadata: MetadataStore;
  readonly storage: StorageDriver;
  readonly hooks: KernelHooks;
  readonly events: EventRecorder;
  readonly logger: Logger;
  readonly uploadLeaseMs: number;
  readonly deleteEnabled: boolean;
}

const PAGE = 1000;

export function createLocalTarget(deps: LocalTargetDeps): ReplicationTarget {
  const manifests = new ManifestService({ metadata: deps.metadata, hooks: deps.hooks, deleteEnabled: deps.deleteEnabled, events: deps.events });
  const uploads = new UploadService({ storage: deps.storage, metadata: deps.metadata, logger: deps.logger, leaseMs: deps.uploadLeaseMs, events: deps.events });
  const request = (path: string): RequestInfo => ({ requestId: `replication-${crypto.randomUUID()}`, ip: '127.0.0.1', method: 'REPLICATE', path, userAgent: 'wharf-replication' });
  const actor = (path: string) => ({ principal: REPLICATION_PRINCIPAL, request: request(path) });

  async function find(repository: string, reference: string) {
    try {
      return await manifests.resolve(repository, parseReference(reference));
    } catch (err) {
      if (err instanceof RegistryError && (err.code === 'MANIFEST_UNKNOWN' || err.code === 'NAME_UNKNOWN')) return undefined;
      throw err;
    }
  }

  const emit = (name: string, run: () => Promise<void>) =>
    run().catch((err: unknown) => deps.logger.error({ err, event: name }, 'event listener failed'));

  return {
    async ping() {
      await deps.metadata.ping();
    },
    async *listRepositories() {
      let last: string | undefined;
      for (;;) {
        const page = await deps.metadata.listRepositories({ n: PAGE, last });
        yield* page;
        if (page.length < PAGE) return;
        last = page[page.length - 1];
      }
    },
    async listTags(repository) {
      const tags: string[] = [];
      let last: string | undefined;
      for (;;) {
        const page = (await deps.metadata.listTags(repository, { n: PAGE, last })) ?? [];
        tags.push(...page);
        if (page.length < PAGE) return tags;
        last = page[page.length - 1];
      }
    },
    async headManifest(repository, reference): Promise<ManifestInfo | undefined> {
      const m = await find(repository, reference);
      return m && { digest: m.digest, mediaType: m.mediaType, size: m.size };
    },
    async getManifest(repository, reference): Promise<RemoteManifest | undefined> {
      const m = await find(repository, reference);
      return m && { digest: m.digest, mediaType: m.mediaType, size: m.size, payload: m.payload };
    },
    async putManifest(repository, reference, manifest) {
      const path = `/v2/${repository}/manifests/${reference}`;
      const who = actor(path);
      const stored = await manifests.put(repository, parseReference(reference), manifest.payload, manifest.mediaType, who).catch((err: unknown) => {
        throw asTargetError(err, `put manifest ${repository}:${reference}`);
      });
      emit('manifestPushed', () => deps.hooks.registry.manifestPushed.promise({
        id: crypto.randomUUID(), timestamp: new Date(), repository, actor: who.principal, request: who.request,
        digest: stored.digest, tag: stored.tag, mediaType: stored.parsed.mediaType, artifactType: stored.parsed.artifactType,
        size: stored.size, subject: stored.parsed.subject,
      }));
    },
    async deleteManifest(repository, reference) {
      const path = `/v2/${repository}/manifests/${reference}`;
      const who = actor(path);
      if (!(await find(repository, reference))) return;
      const deleted = await manifests.delete(repository, parseReference(reference), who).catch((err: unknown) => {
        throw asTargetError(err, `delete ${repository}:${reference}`);
      });
      emit('manifestDeleted', () => deps.hooks.registry.manifestDeleted.promise({
        id: crypto.randomUUID(), timestamp: new Date(), repository, actor: who.principal, request: who.request,
        digest: deleted.digest, tag: deleted.tag,
      }));
    },
    async hasBlob(repository, digest) {
      return (await deps.metadata.getLinkedBlob(repository, digest)) !== undefined;
    },
    async mountBlob(repository, digest, fromRepository) {
      return (await uploads.mount(repository, fromRepository, digest, actor(`/v2/${repository}/blobs/uploads/`))) !== undefined;
    },
    async readBlob(repository, digest) {
      const linked = await deps.metadata.getLinkedBlob(repository, digest);
      if (!linked) throw new ReplicationTargetError('NOT_FOUND', `blob ${digest} is not in ${repository}`, { status: 404, ociCode: 'BLOB_UNKNOWN' });
      return { size: linked.size, stream: await deps.storage.read(digest) };
    },
    async writeBlob(repository, digest: Digest, size, data: Readable, options?: WriteBlobOptions) {
      // The whole blob goes through one upload session: the local side has no request size limit.
      void options;
      const upload = await uploads.start(repository);
      try {
        await uploads.finish(repository, upload.id, digest, data, { range: undefined, length: size }, actor(`/v2/${repository}/blobs/uploads/`));
      } catch (err) {
        data.destroy();
        await uploads.cancel(repository, upload.id).catch(() => undefined);
        throw asTargetError(err, `write blob ${digest} to ${repository}`);
      }
      const who = actor(`/v2/${repository}/blobs/uploads/`);
      emit('blobCommitted', () => deps.hooks.registry.blobCommitted.promise({
        id: crypto.randomUUID(), timestamp: new Date(), repository, actor: who.principal, request: who.request, digest, size, mounted: false,
      }));
    },
    async listReferrers(repository, digest): Promise<ContentDescriptor[]> {
      const referrers = await manifests.referrers(repository, digest, undefined);
      return referrers.map((r) => ({
        mediaType: r.mediaType, digest: r.digest, size: r.size,
        ...(r.artifactType ? { artifactType: r.artifactType } : {}),
        ...(r.annotations ? { annotations: r.annotations } : {}),
      }));
    },
  };
}

/** Registry refusals (bad manifest, policy gate) are not worth retrying; the rest may be. */
function asTargetError(err: unknown, what: string): Error {
  if (err instanceof RegistryError) {
    const code = err.code === 'DENIED' ? 'DENIED' : err.code === 'UNSUPPORTED' ? 'UNSUPPORTED' : 'INVALID';
    return new ReplicationTargetError(code, `local registry: ${what}: ${err.message}`, { status: err.status, ociCode: err.code }, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}
