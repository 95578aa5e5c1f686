import type { Readable } from 'node:stream';
import type {
  BlobReader,
  ContentDescriptor,
  Digest,
  ManifestInfo,
  PluginContext,
  ReadBlobOptions,
  RemoteManifest,
  ReplicationEndpoint,
  ReplicationTarget,
  WriteBlobOptions,
} from '@wharf/sdk';
import { hasBlob, mountBlob, readBlob, writeBlob } from './blobs.js';
import { headerOf, RegistryClient } from './client/http.js';
import { listRepositories, listTags } from './listings.js';
import { deleteManifest, getManifest, headManifest, putManifest } from './manifests.js';
import { addToReferrersTag, listReferrers, referrerDescriptor } from './referrers.js';

type Logger = PluginContext<unknown>['logger'];

/** Options of {@link OciTarget}: the plugin's config and a logger. */
export interface OciTargetOptions {
  readonly connectTimeoutMs?: number | undefined;
  readonly requestTimeoutMs?: number | undefined;
  readonly chunkSize?: number | undefined;
  readonly userAgent?: string | undefined;
  readonly logger?: Logger | undefined;
}

/** A registry speaking the OCI Distribution API (Wharf, distribution, Harbor, zot, Docker Hub...). */
export class OciTarget implements ReplicationTarget {
  readonly #client: RegistryClient;
  readonly #chunkSize: number | undefined;

  constructor(endpoint: ReplicationEndpoint, options: OciTargetOptions = {}) {
    this.#client = new RegistryClient({
      endpoint,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 120_000,
      userAgent: options.userAgent ?? 'wharf-replication-oci',
      logger: options.logger,
    });
    this.#chunkSize = options.chunkSize;
  }

  async ping(): Promise<void> {
    const op = { name: 'ping', scopes: [] };
    const answer = await this.#client.expect(op, { method: 'GET', url: '/v2/' }, [200]);
    await answer.body.dump().catch(() => undefined);
  }

  listRepositories(): AsyncIterable<string> {
    return listRepositories(this.#client);
  }

  listTags(repository: string): Promise<string[]> {
    return listTags(this.#client, repository);
  }

  headManifest(repository: string, reference: string): Promise<ManifestInfo | undefined> {
    return headManifest(this.#client, repository, reference);
  }

  getManifest(repository: string, reference: string): Promise<RemoteManifest | undefined> {
    return getManifest(this.#client, repository, reference);
  }

  async putManifest(repository: string, reference: string, manifest: RemoteManifest): Promise<void> {
    const answer = await putManifest(this.#client, repository, reference, manifest);
    // A registry that kept the subject says so; otherwise the tag schema must list the referrer.
    if (headerOf(answer, 'oci-subject')) return;
    const referrer = referrerDescriptor(manifest);
    if (referrer) await addToReferrersTag(this.#client, repository, referrer.subject, referrer.descriptor);
  }

  deleteManifest(repository: string, reference: string): Promise<void> {
    return deleteManifest(this.#client, repository, reference);
  }

  hasBlob(repository: string, digest: Digest): Promise<boolean> {
    return hasBlob(this.#client, repository, digest);
  }

  mountBlob(repository: string, digest: Digest, fromRepository: string): Promise<boolean> {
    return mountBlob(this.#client, repository, digest, fromRepository);
  }

  readBlob(repository: string, digest: Digest, signal?: AbortSignal, options?: ReadBlobOptions): Promise<BlobReader> {
    return readBlob(this.#client, repository, digest, signal, options?.verify ?? true);
  }

  writeBlob(repository: string, digest: Digest, size: number, data: Readable, options: WriteBlobOptions = {}): Promise<void> {
    return writeBlob(this.#client, repository, digest, size, data, { chunkSize: options.chunkSize ?? this.#chunkSize, signal: options.signal });
  }

  listReferrers(repository: string, digest: Digest): Promise<ContentDescriptor[] | undefined> {
    return listReferrers(this.#client, repository, digest);
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}
