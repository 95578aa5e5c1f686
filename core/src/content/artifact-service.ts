import type { ArtifactService, Digest } from '@wharf/sdk';
import type { MetadataStore } from '../metadata/types.js';
import { parseReference, requireDigest } from '../registry/names.js';

/**
 * `coreServices.artifacts`: a read-only view of the metadata store. References and digests are
 * checked like the OCI routes check them (`TAG_INVALID`, `DIGEST_INVALID`), so no plugin input
 * reaches a query unchecked.
 */
export function createArtifactService(metadata: MetadataStore): ArtifactService {
  const digestOf = async (repository: string, reference: string): Promise<Digest | undefined> => {
    const ref = parseReference(reference);
    return ref.kind === 'digest' ? ref.digest : metadata.resolveTag(repository, ref.tag);
  };
  const service: ArtifactService = {
    listRepositories: (page) => metadata.listRepositorySummaries(page),
    getRepository: (name) => metadata.getRepositorySummary(name),
    findRepositories: (search) => metadata.findRepositorySummaries(search),
    listArtifacts: (repository, page) => metadata.listArtifacts(repository, page),
    findArtifacts: (repository, page) => metadata.findArtifacts(repository, page),
    searchContent: (request) => metadata.searchContent(request),
    async getArtifact(repository, reference) {
      const digest = await digestOf(repository, reference);
      return digest === undefined ? undefined : metadata.getArtifact(repository, digest);
    },
    async getManifest(repository, reference) {
      const digest = await digestOf(repository, reference);
      const m = digest === undefined ? undefined : await metadata.getManifest(repository, digest);
      return m && { digest: m.digest, mediaType: m.mediaType, artifactType: m.artifactType, size: m.size, payload: m.payload };
    },
    async resolveTag(repository, tag) {
      const ref = parseReference(tag);
      if (ref.kind !== 'tag') return undefined;
      return metadata.resolveTag(repository, ref.tag);
    },
    listTags: (repository, page) => metadata.listTagDetails(repository, page),
    async listReferrers(repository, subject, options) {
      return metadata.listReferrers(repository, requireDigest(subject, 'subject'), options?.artifactType);
    },
    listReferencing: async (digest, page) => metadata.listReferencing(requireDigest(digest), page),
  };
  return Object.freeze(service);
}
