import { RegistryError, type Digest } from '@wharf/sdk';
import { MediaTypes, isImageMediaType, isIndexMediaType } from './media-types.js';

const MANIFEST_TYPES: readonly string[] = [MediaTypes.ociManifest, MediaTypes.ociIndex, MediaTypes.dockerManifest, MediaTypes.dockerManifestList];

/**
 * The manifest media types a request's `Accept` header restricts the answer to, or `undefined`
 * when it does not restrict it: no header, a wildcard, or no known manifest type at all (plain
 * `application/json`, artifact clients). Only clients that name manifest types get negotiated.
 */
export function acceptedManifestTypes(accept: string | undefined): Set<string> | undefined {
  if (!accept) return undefined;
  const types = accept.split(',').map((part) => part.split(';')[0]!.trim().toLowerCase()).filter(Boolean);
  if (types.some((t) => t === '*/*' || t === 'application/*')) return undefined;
  if (!types.some((t) => MANIFEST_TYPES.includes(t))) return undefined;
  return new Set(types);
}

/** What to do with a stored manifest for a client that accepts `accepted`. */
export type Negotiation = { kind: 'serve' } | { kind: 'child'; digest: Digest };

/**
 * Decides between serving the stored manifest, serving the linux/amd64 child of an index to an
 * old client that cannot read indexes (as distribution does), or refusing: an OCI manifest or
 * index is never served to a client that said it cannot read it.
 */
export function negotiate(mediaType: string, payload: Buffer, accepted: Set<string> | undefined): Negotiation {
  if (!accepted || accepted.has(mediaType)) return { kind: 'serve' };
  if (isIndexMediaType(mediaType)) {
    const child = defaultPlatformChild(payload, accepted);
    if (child) return { kind: 'child', digest: child };
    throw notAcceptable(mediaType);
  }
  if (mediaType === MediaTypes.ociManifest) throw notAcceptable(mediaType);
  return { kind: 'serve' };
}

function defaultPlatformChild(payload: Buffer, accepted: Set<string>): Digest | undefined {
  const index = JSON.parse(payload.toString('utf8')) as { manifests?: { mediaType?: string; digest: string; platform?: { os?: string; architecture?: string } }[] };
  const child = index.manifests?.find(
    (m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64' && m.mediaType !== undefined && isImageMediaType(m.mediaType) && accepted.has(m.mediaType),
  );
  return child?.digest as Digest | undefined;
}

function notAcceptable(mediaType: string): RegistryError {
  return new RegistryError('MANIFEST_UNKNOWN', `manifest is a ${mediaType}, which the Accept header does not allow`, {
    detail: { mediaType },
  });
}
