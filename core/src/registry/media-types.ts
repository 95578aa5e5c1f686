/** Manifest media types: the only ones a manifest PUT may use. */
export const MediaTypes = Object.freeze({
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociArtifactManifest: 'application/vnd.oci.artifact.manifest.v1+json',
});

/** Index-like manifests reference other manifests. */
export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociIndex || mediaType === MediaTypes.dockerManifestList;
}

/** Image-like manifests reference a config and layers. */
export function isImageMediaType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociManifest || mediaType === MediaTypes.dockerManifest;
}

/**
 * Layers that may live outside the registry (Windows base layers): their blobs are not required
 * to be pushed, so a manifest referencing them by `urls` is valid without them.
 */
export function isForeignLayer(mediaType: string | undefined): boolean {
  return (
    mediaType === 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip' ||
    (mediaType?.startsWith('application/vnd.oci.image.layer.nondistributable.') ?? false)
  );
}

/** Docker's schema 2 formats, which always carry their `mediaType`. */
export function isDockerMediaType(mediaType: string): boolean {
  return mediaType === MediaTypes.dockerManifest || mediaType === MediaTypes.dockerManifestList;
}

/** The manifest types a PUT may use; anything else (`text/plain`, made-up types) is refused. */
export function isManifestMediaType(mediaType: string): boolean {
  return isImageMediaType(mediaType) || isIndexMediaType(mediaType) || mediaType === MediaTypes.ociArtifactManifest;
}
