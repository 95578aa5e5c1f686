import { createHash } from 'node:crypto';
import { RegistryError, parseDigest, type Digest, type KernelHooks, type Principal, type RequestInfo } from '@wharf/sdk';
import type { EventRecorder } from '../events/events-runtime.js';
import { registryDrafts } from '../events/registry-drafts.js';
import type { ManifestRecord, MetadataStore, ReferrerRecord } from '../metadata/types.js';
import { parseManifest, type ParsedManifest } from './manifest-parser.js';
import type { Reference } from './names.js';

export interface ManifestServiceDeps {
  readonly metadata: MetadataStore;
  readonly hooks: KernelHooks;
  readonly deleteEnabled: boolean;
  /** Durable events, written in the same transaction as the change. */
  readonly events: EventRecorder;
}

/** Who does it, for policy gates and events. */
export interface Actor {
  readonly principal: Principal;
  readonly request: RequestInfo;
}

/** Manifests, tags and referrers of repositories. */
export class ManifestService {
  constructor(private readonly deps: ManifestServiceDeps) {}

  /** Resolves a tag or digest to a stored manifest, or throws `MANIFEST_UNKNOWN`. */
  async resolve(repository: string, reference: Reference): Promise<ManifestRecord> {
    const { metadata } = this.deps;
    const digest = reference.kind === 'digest' ? reference.digest : await metadata.resolveTag(repository, reference.tag);
    const manifest = digest ? await metadata.getManifest(repository, digest) : undefined;
    if (!manifest) {
      throw new RegistryError('MANIFEST_UNKNOWN', undefined, {
        detail: reference.kind === 'tag' ? { tag: reference.tag } : { digest: reference.digest },
      });
    }
    return manifest;
  }

  /** Stores a manifest: parse, verify digest, check references, run gates, index. */
  async put(repository: string, reference: Reference, payload: Buffer, contentType: string | undefined, actor: Actor, options: { lazyReferences?: boolean } = {}) {
    const parsed = parseManifest(payload, contentType);
    const algorithm = reference.kind === 'digest' ? (parseDigest(reference.digest) as { algorithm: 'sha256' | 'sha512' }).algorithm : 'sha256';
    const digest = `${algorithm}:${createHash(algorithm).update(payload).digest('hex')}` as Digest;
    if (reference.kind === 'digest' && reference.digest !== digest) {
      throw new RegistryError('DIGEST_INVALID', 'manifest digest does not match its content', {
        detail: { expected: reference.digest, actual: digest },
      });
    }
    await this.checkSizes(repository, parsed);
    const tag = reference.kind === 'tag' ? reference.tag : undefined;
    await this.deps.hooks.registry.beforeManifestPut.promise({
      repository, tag, digest, mediaType: parsed.mediaType, artifactType: parsed.artifactType, size: payload.length,
      references: [...parsed.blobRefs, ...parsed.manifestRefs], subject: parsed.subject, ...actor,
    });
    const pushed = registryDrafts.manifestPushed({
      repository, digest, tag, mediaType: parsed.mediaType, artifactType: parsed.artifactType, size: payload.length, subject: parsed.subject,
    }, actor);
    const result = await this.deps.metadata.putManifest({
      repository, digest, tag, payload, mediaType: parsed.mediaType, artifactType: parsed.artifactType,
      subject: parsed.subject, annotations: parsed.annotations, blobRefs: parsed.blobRefs, manifestRefs: parsed.manifestRefs,
      lazyReferences: options.lazyReferences === true,
    }, this.deps.events.writer([pushed]));
    if (!result.ok) {
      throw new RegistryError('MANIFEST_BLOB_UNKNOWN', 'manifest references content unknown to this repository', {
        detail: { blobs: result.missingBlobs, manifests: result.missingManifests },
      });
    }
    return { digest, tag, parsed, size: payload.length };
  }

  /**
   * Every descriptor's `size` must be the stored size of what it names: a client must not learn
   * to trust a length the registry never checked. Content not stored yet is left to the
   * reference check of `putManifest` (`MANIFEST_BLOB_UNKNOWN`).
   */
  private async checkSizes(repository: string, parsed: ParsedManifest): Promise<void> {
    const { metadata } = this.deps;
    const children = new Set<string>(parsed.manifestRefs);
    const checked = new Set<string>();
    for (const { digest, size } of parsed.sizes) {
      const key = `${digest}:${size}`;
      if (checked.has(key)) continue;
      checked.add(key);
      const stored = children.has(digest) ? await metadata.getManifest(repository, digest) : await metadata.getLinkedBlob(repository, digest);
      if (stored !== undefined && stored.size !== size) {
        throw new RegistryError('MANIFEST_INVALID', 'a descriptor size does not match the stored content', {
          detail: { digest, size, stored: stored.size },
        });
      }
    }
  }

  /** Deletes a manifest by digest (with its tags) or a single tag. */
  async delete(repository: string, reference: Reference, actor: Actor): Promise<{ digest: Digest; tag: string | undefined }> {
    this.assertDeletesEnabled();
    const manifest = await this.resolve(repository, reference);
    const target = reference.kind === 'tag'
      ? { kind: 'tag' as const, tag: reference.tag, digest: manifest.digest }
      : { kind: 'manifest' as const, digest: manifest.digest };
    await this.deps.hooks.registry.beforeDelete.promise({ repository, target, ...actor });
    const record = this.deps.events.writer([
      registryDrafts.manifestDeleted({ repository, digest: manifest.digest, tag: reference.kind === 'tag' ? reference.tag : undefined }, actor),
    ]);
    const deleted = reference.kind === 'tag'
      ? await this.deps.metadata.deleteTag(repository, reference.tag, record)
      : await this.deps.metadata.deleteManifest(repository, manifest.digest, record);
    if (!deleted) throw new RegistryError('MANIFEST_UNKNOWN');
    return { digest: manifest.digest, tag: reference.kind === 'tag' ? reference.tag : undefined };
  }

  async referrers(repository: string, subject: Digest, artifactType: string | undefined): Promise<ReferrerRecord[]> {
    return this.deps.metadata.listReferrers(repository, subject, artifactType);
  }

  assertDeletesEnabled(): void {
    if (!this.deps.deleteEnabled) {
      throw new RegistryError('UNSUPPORTED', 'deletes are disabled by the registry configuration', { status: 405 });
    }
  }
}
