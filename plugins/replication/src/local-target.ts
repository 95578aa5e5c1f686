import type { Readable } from 'node:stream';
import {
  isDigest,
  ReplicationTargetError,
  RegistryError,
  type ArtifactService,
  type BlobService,
  type ContentActor,
  type ContentDescriptor,
  type ContentService,
  type Digest,
  type ManifestInfo,
  type Principal,
  type RemoteManifest,
  type ReplicationTarget,
  type RequestInfo,
  type WriteBlobOptions,
} from '@wharf/sdk';

/**
 * This registry as a replication target: the source side of push policies and the destination
 * of pull policies. Built on the kernel's content services (`coreServices.artifacts`, `blobs`,
 * `content`), which apply the same checks, policy gates and events as a client's push, without
 * HTTP. The mapping is one to one (docs/architecture/03-services.md).
 */

/** Who the engine acts as when it writes into this registry. */
export const REPLICATION_PRINCIPAL: Principal = Object.freeze({
  subject: 'replication',
  kind: 'system',
  provider: 'replication',
  admin: true,
  groups: Object.freeze([]) as unknown as string[],
});

export interface LocalTargetDeps {
  readonly artifacts: ArtifactService;
  readonly blobs: BlobService;
  readonly content: ContentService;
  /** The database answers (the local side's `ping`). */
  readonly ping: () => Promise<void>;
}

const PAGE = 1000;

export function createLocalTarget(deps: LocalTargetDeps): ReplicationTarget {
  const { artifacts, blobs, content } = deps;
  const request = (path: string): RequestInfo => ({ requestId: `replication-${crypto.randomUUID()}`, ip: '127.0.0.1', method: 'REPLICATE', path, userAgent: 'wharf-replication' });
  const actor = (path: string): ContentActor => ({ principal: REPLICATION_PRINCIPAL, request: request(path) });

  async function find(repository: string, reference: string) {
    try {
      return await artifacts.getManifest(repository, reference);
    } catch (err) {
      if (err instanceof RegistryError && (err.code === 'MANIFEST_UNKNOWN' || err.code === 'NAME_UNKNOWN')) return undefined;
      throw err;
    }
  }

  return {
    async ping() {
      await deps.ping();
    },
    async *listRepositories() {
      let cursor: string | undefined;
      do {
        const page = await artifacts.listRepositories({ limit: PAGE, ...(cursor ? { cursor } : {}) });
        for (const repository of page.items) yield repository.name;
        cursor = page.next;
      } while (cursor);
    },
    async listTags(repository) {
      const tags: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await artifacts.listTags(repository, { limit: PAGE, ...(cursor ? { cursor } : {}) });
        tags.push(...page.items.map((t) => t.name));
        cursor = page.next;
      } while (cursor);
      return tags;
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
      await content.putManifest(repository, reference, { payload: manifest.payload, mediaType: manifest.mediaType }, actor(`/v2/${repository}/manifests/${reference}`))
        .catch((err: unknown) => {
          throw asTargetError(err, `put manifest ${repository}:${reference}`);
        });
    },
    async deleteManifest(repository, reference) {
      if (!(await find(repository, reference))) return;
      const who = actor(`/v2/${repository}/manifests/${reference}`);
      const deleting = isDigest(reference) ? content.deleteManifest(repository, reference, who) : content.deleteTag(repository, reference, who);
      await deleting.catch((err: unknown) => {
        if (err instanceof RegistryError && err.code === 'MANIFEST_UNKNOWN') return; // gone meanwhile: what a delete wants
        throw asTargetError(err, `delete ${repository}:${reference}`);
      });
    },
    async hasBlob(repository, digest) {
      return (await blobs.inRepository(repository, digest)) !== undefined;
    },
    async mountBlob(repository, digest, fromRepository) {
      return content.mountBlob(repository, digest, fromRepository, actor(`/v2/${repository}/blobs/uploads/`));
    },
    async readBlob(repository, digest) {
      try {
        return await blobs.read(repository, digest);
      } catch (err) {
        if (err instanceof RegistryError && err.code === 'BLOB_UNKNOWN') {
          throw new ReplicationTargetError('NOT_FOUND', `blob ${digest} is not in ${repository}`, { status: 404, ociCode: 'BLOB_UNKNOWN' });
        }
        throw err;
      }
    },
    async writeBlob(repository, digest: Digest, size, data: Readable, options?: WriteBlobOptions) {
      // The whole blob goes through one streamed write: the local side has no request size limit.
      void options;
      try {
        await content.putBlob(repository, { digest, size, data }, actor(`/v2/${repository}/blobs/uploads/`));
      } catch (err) {
        data.destroy();
        throw asTargetError(err, `write blob ${digest} to ${repository}`);
      }
    },
    async listReferrers(repository, digest): Promise<ContentDescriptor[]> {
      const referrers = await artifacts.listReferrers(repository, digest);
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
