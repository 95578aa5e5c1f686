import { ApiError, type ArtifactService, type ContentActor, type ContentService, type Digest } from '@wharf/sdk';
import type { Reference } from './names.js';

/**
 * Harbor's artifact copy: the artifact of one repository stored in another without moving a
 * byte. Blobs are mounted (linked) from the source, then each manifest is put with its exact
 * bytes, children before their index and referrers (signatures, SBOMs) after their subject, all
 * through `coreServices.content`, so the policy gates and events see a push by the caller.
 * Copied by tag, the copy gets that tag; copied by digest, it is untagged.
 */

export interface CopyServices {
  readonly artifacts: ArtifactService;
  readonly content: ContentService;
}

/** Manifests one copy may store at most (an index of indexes with signatures stays far below). */
const MAX_MANIFESTS = 1000;

interface Descriptor {
  readonly digest?: unknown;
}

/** Digests of the blobs (config, layers, an artifact manifest's blobs) and child manifests a manifest names. */
function referencesOf(payload: Buffer): { blobs: Digest[]; children: Digest[] } {
  let json: { config?: Descriptor; layers?: unknown; blobs?: unknown; manifests?: unknown };
  try {
    json = JSON.parse(payload.toString('utf8')) as typeof json;
  } catch {
    return { blobs: [], children: [] };
  }
  const digests = (list: unknown): Digest[] => (Array.isArray(list) ? (list as Descriptor[]).map((d) => d?.digest).filter((d): d is string => typeof d === 'string') : []);
  const blobs = [...(typeof json.config?.digest === 'string' ? [json.config.digest] : []), ...digests(json.layers), ...digests(json.blobs)];
  return { blobs: [...new Set(blobs)], children: digests(json.manifests) };
}

export async function copyArtifact(
  services: CopyServices,
  source: { readonly repository: string; readonly reference: Reference },
  target: string,
  actor: ContentActor,
): Promise<{ digest: Digest; tag: string | undefined }> {
  const { artifacts, content } = services;
  const ref = source.reference.kind === 'digest' ? source.reference.digest : source.reference.tag;
  const root = await artifacts.getManifest(source.repository, ref);
  if (!root) throw new ApiError('NOT_FOUND', `no artifact ${source.repository}${source.reference.kind === 'digest' ? '@' : ':'}${ref}`);
  const done = new Set<string>();

  const copy = async (digest: Digest): Promise<void> => {
    if (done.has(digest)) return;
    if (done.size >= MAX_MANIFESTS) throw new ApiError('BAD_REQUEST', `the artifact holds more than ${MAX_MANIFESTS} manifests with its children and referrers: copy it with replication`);
    done.add(digest);
    const manifest = await artifacts.getManifest(source.repository, digest);
    if (!manifest) throw new ApiError('CONFLICT', `${source.repository}@${digest} was deleted during the copy`);
    const { blobs, children } = referencesOf(manifest.payload);
    for (const child of children) await copy(child);
    for (const blob of blobs) await content.mountBlob(target, blob, source.repository, actor);
    await content.putManifest(target, digest, { payload: manifest.payload, mediaType: manifest.mediaType }, actor);
    for (const referrer of await artifacts.listReferrers(source.repository, digest)) await copy(referrer.digest);
  };

  await copy(root.digest);
  const tag = source.reference.kind === 'tag' ? source.reference.tag : undefined;
  if (tag !== undefined) await content.putManifest(target, tag, { payload: root.payload, mediaType: root.mediaType }, actor);
  return { digest: root.digest, tag };
}
