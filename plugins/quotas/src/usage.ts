import type { ArtifactService, BlobService, Digest } from '@wharf/sdk';
import { artifactKey, type DerivedUsage } from './store.js';

interface Descriptor {
  readonly digest?: unknown;
}

/** The digests of the blobs a manifest references directly (config, layers, an artifact's blobs). */
function referencedBlobs(payload: Buffer): string[] {
  let doc: { config?: Descriptor; layers?: Descriptor[]; blobs?: Descriptor[] };
  try {
    doc = JSON.parse(payload.toString('utf8')) as typeof doc;
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const d of [doc.config, ...(Array.isArray(doc.layers) ? doc.layers : []), ...(Array.isArray(doc.blobs) ? doc.blobs : [])]) {
    if (d && typeof d.digest === 'string') out.push(d.digest);
  }
  return out;
}

/**
 * What a project's repositories hold, from the kernel's content services: every artifact
 * (manifest) of every repository under `<project>/`, and the distinct digests of the manifests
 * and of the blobs they reference that a repository of the project holds, each once. A blob
 * uploaded without a manifest yet is not part of it: it stays charged through the settle window
 * (see the ADR). A referenced blob no repository of the project holds is not counted: a
 * proxy-cache project stores manifests before their layers (lazy references), and each layer is
 * charged when it arrives, so a recompute must not charge the layers still upstream.
 */
export async function deriveUsage(artifacts: ArtifactService, blobService: Pick<BlobService, 'stat'>, project: string): Promise<DerivedUsage> {
  const manifests = new Map<string, number>();
  const referenced = new Set<string>();
  const found = new Map<string, { repository: string; digest: string }>();
  for (let page = 1; ; page++) {
    const repos = await artifacts.findRepositories({ namespace: project, page, pageSize: 1000 });
    for (const repo of repos.items) {
      let cursor: string | undefined;
      do {
        const list = await artifacts.listArtifacts(repo.name, { limit: 1000, cursor });
        for (const artifact of list.items) {
          found.set(artifactKey(repo.name, artifact.digest), { repository: repo.name, digest: artifact.digest });
          manifests.set(artifact.digest, artifact.manifestSize);
          const manifest = await artifacts.getManifest(repo.name, artifact.digest);
          if (manifest) for (const digest of referencedBlobs(manifest.payload)) referenced.add(digest);
        }
        cursor = list.next;
      } while (cursor);
    }
    if (repos.items.length === 0 || page * 1000 >= repos.total) break;
  }
  const blobs = new Map(manifests);
  const prefix = `${project}/`;
  for (const digest of referenced) {
    if (blobs.has(digest)) continue;
    const details = await blobService.stat(digest as Digest);
    if (details?.repositories.some((repository) => repository.startsWith(prefix))) blobs.set(digest, details.size);
  }
  return { blobs, artifacts: found };
}

/** Every project (first path segment) that holds a repository. */
export async function projectsWithRepositories(artifacts: ArtifactService): Promise<Set<string>> {
  const projects = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await artifacts.listRepositories({ limit: 1000, cursor });
    for (const repo of page.items) {
      const slash = repo.name.indexOf('/');
      if (slash > 0) projects.add(repo.name.slice(0, slash));
    }
    cursor = page.next;
  } while (cursor);
  return projects;
}
