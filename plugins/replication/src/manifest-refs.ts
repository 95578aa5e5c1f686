import { isDigest, ReplicationTargetError, type Digest, type RemoteManifest } from '@wharf/sdk';

/**
 * What a manifest references, for copying: an index's children, or an image's (or artifact
 * manifest's) config, layers and blobs. Only what the copy needs: the destination checks the
 * manifest in full when it is put (the local side through `coreServices.content`).
 */

export interface ManifestRefs {
  /** Index children, each copied under its digest first. */
  readonly manifests: readonly Digest[];
  /** Config, layers and blobs, without foreign layers that live at their own URLs. */
  readonly blobs: readonly Digest[];
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

function isForeignLayer(mediaType: unknown): boolean {
  return mediaType === 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip' ||
    (typeof mediaType === 'string' && mediaType.startsWith('application/vnd.oci.image.layer.nondistributable.'));
}

type Descriptor = { digest?: unknown; mediaType?: unknown; urls?: unknown };

export function manifestRefs(manifest: RemoteManifest): ManifestRefs {
  const invalid = (why: string) => new ReplicationTargetError('INVALID', `manifest ${manifest.digest}: ${why}`, { retryable: false });
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(manifest.payload.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw invalid('not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('not a JSON object');
  const list = (value: unknown, field: string): Descriptor[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw invalid(`${field} must be an array`);
    return value as Descriptor[];
  };
  const digestOf = (d: Descriptor, field: string): Digest => {
    if (typeof d?.digest !== 'string' || !isDigest(d.digest)) throw invalid(`${field} holds a descriptor without a valid digest`);
    return d.digest;
  };
  const unique = (ds: Digest[]) => [...new Set(ds)];
  if (INDEX_TYPES.has(manifest.mediaType) || (doc.manifests !== undefined && doc.layers === undefined)) {
    return { manifests: unique(list(doc.manifests, 'manifests').map((d) => digestOf(d, 'manifests'))), blobs: [] };
  }
  const config = doc.config === undefined ? [] : [digestOf(doc.config as Descriptor, 'config')];
  const stored = [...list(doc.layers, 'layers'), ...list(doc.blobs, 'blobs')]
    .filter((d) => !(isForeignLayer(d?.mediaType) && Array.isArray(d?.urls) && d.urls.length > 0))
    .map((d) => digestOf(d, 'layers'));
  return { manifests: [], blobs: unique([...config, ...stored]) };
}
