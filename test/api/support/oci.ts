import { createHash } from 'node:crypto';

/** Small OCI helpers for API tests: digests, blobs and manifests with known content. */

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function sha512(data: Buffer | string): string {
  return `sha512:${createHash('sha512').update(data).digest('hex')}`;
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  platform?: { architecture: string; os: string };
  annotations?: Record<string, string>;
}

export function descriptorOf(mediaType: string, data: Buffer): Descriptor {
  return { mediaType, digest: sha256(data), size: data.length };
}

/** A config and one layer with content unique to `seed`. */
export function imageParts(seed: string, docker = false) {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, seed }));
  const layer = Buffer.from(`layer-${seed}-`.repeat(64));
  const manifest = {
    schemaVersion: 2,
    mediaType: docker ? DOCKER_MANIFEST : OCI_MANIFEST,
    config: descriptorOf(docker ? DOCKER_CONFIG : OCI_CONFIG, config),
    layers: [descriptorOf(docker ? DOCKER_LAYER : OCI_LAYER, layer)],
  };
  const body = Buffer.from(JSON.stringify(manifest));
  return { config, layer, manifest, body, digest: sha256(body), mediaType: manifest.mediaType };
}

/** A manifest body and its digest from any object. */
export function manifestBody(doc: unknown): { body: Buffer; digest: string } {
  const body = Buffer.from(JSON.stringify(doc));
  return { body, digest: sha256(body) };
}
