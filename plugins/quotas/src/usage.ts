import type { ArtifactService } from '@wharf/sdk';
import { artifactKey, type DerivedUsage } from './store.js';

interface Descriptor {
  readonly digest?: unknown;
  readonly size?: unknown;
}

/** The blobs a manifest references directly, with the sizes its descriptors state (checked by the kernel at push). */
function referencedBlobs(payload: Buffer): Array<[string, number]> {
  let doc: { config?: Descriptor; layers?: Descriptor[]; blobs?: Descriptor[] };
  try {
    doc = JSON.parse(payload.toString('utf8')) as typeof doc;
  } catch {
    return [];
  }
  const out: Array<[string, number]> = [];
  for (const d of [doc.config, ...(Array.isArray(doc.layers) ? doc.layers : []), ...(Array.isArray(doc.blobs) ? doc.blobs : [])]) {
    if (d && typeof d.digest === 'string' && typeof d.size === 'number') out.push([d.digest, d.size]);
  }
  return out;
}

/**
 * What a project's repositories hold, from the kernel's content services: every artifact
 * (manifest) of every repository under `<project>/`, and the distinct digests of the manifests
 * and the blobs they reference, each once. A blob uploaded without a manifest yet is not part
 * of it: it stays charged through the settle window (see the ADR).
 */
export async function deriveUsage(artifacts: ArtifactService, project: string): Promise<DerivedUsage> {
  const blobs = new Map<string, number>();
  const found = new Map<string, { repository: string; digest: string }>();
  for (let page = 1; ; page++) {
    const repos = await artifacts.findRepositories({ namespace: project, page, pageSize: 1000 });
    for (const repo of repos.items) {
      let cursor: string | undefined;
      do {
        const list = await artifacts.listArtifacts(repo.name, { limit: 1000, cursor });
        for (const artifact of list.items) {
          found.set(artifactKey(repo.name, artifact.digest), { repository: repo.name, digest: artifact.digest });
          blobs.set(artifact.digest, artifact.manifestSize);
          const manifest = await artifacts.getManifest(repo.name, artifact.digest);
          if (manifest) for (const [digest, size] of referencedBlobs(manifest.payload)) blobs.set(digest, size);
        }
        cursor = list.next;
      } while (cursor);
    }
    if (repos.items.length === 0 || page * 1000 >= repos.total) break;
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
