import { RegistryError, parseDigest, type Digest } from '@wharf/sdk';
import { MediaTypes, isForeignLayer, isImageMediaType, isIndexMediaType } from './media-types.js';

/** What the registry needs to know about a manifest to store and index it. */
export interface ParsedManifest {
  readonly mediaType: string;
  /** `artifactType`, or for an image manifest without one, its config media type (as referrers report). */
  readonly artifactType: string | undefined;
  readonly subject: Digest | undefined;
  readonly annotations: Record<string, string> | undefined;
  readonly blobRefs: Digest[];
  readonly manifestRefs: Digest[];
}

interface Descriptor {
  mediaType?: string;
  digest: Digest;
  size: number;
  urls?: string[];
}

function invalid(message: string, detail?: unknown): RegistryError {
  return new RegistryError('MANIFEST_INVALID', message, { detail });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function descriptor(value: unknown, where: string): Descriptor {
  if (!isRecord(value)) throw invalid(`${where} must be a descriptor object`);
  const { digest, size, mediaType, urls } = value;
  if (typeof digest !== 'string' || !parseDigest(digest).ok) throw invalid(`${where}.digest is not a valid digest`, { digest });
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(`${where}.size must be a non-negative integer`);
  if (mediaType !== undefined && typeof mediaType !== 'string') throw invalid(`${where}.mediaType must be a string`);
  if (urls !== undefined && !(Array.isArray(urls) && urls.every((u) => typeof u === 'string'))) throw invalid(`${where}.urls must be strings`);
  return { digest: digest as Digest, size, mediaType, urls: urls as string[] | undefined };
}

function descriptors(value: unknown, where: string, required: boolean): Descriptor[] {
  if (value === undefined && !required) return [];
  if (!Array.isArray(value)) throw invalid(`${where} must be an array`);
  return value.map((item, i) => descriptor(item, `${where}[${i}]`));
}

function annotations(value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw invalid('annotations must map strings to strings');
  }
  return value as Record<string, string>;
}

/**
 * Parses a manifest body. The media type comes from the request's `Content-Type`; when the body
 * names one too they must agree. Known image and index types are checked against their schema's
 * required fields; any other media type is an artifact whose descriptors (`config`, `layers`,
 * `blobs`, `manifests`) are recorded as references when present.
 */
export function parseManifest(payload: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (!isRecord(doc)) throw invalid('manifest must be a JSON object');
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  const headerType = contentType?.split(';')[0]?.trim() || undefined;
  const mediaType = headerType ?? declared;
  if (!mediaType) throw invalid('manifest media type unknown: send Content-Type');
  if (declared !== undefined && headerType !== undefined && declared !== headerType) {
    throw invalid('mediaType in the manifest does not match Content-Type', { mediaType: declared, contentType: headerType });
  }
  if (mediaType === MediaTypes.dockerSchema1 || mediaType === MediaTypes.dockerSchema1Signed) {
    throw new RegistryError('MANIFEST_INVALID', 'Docker schema 1 manifests are not supported', { detail: { mediaType } });
  }
  if (doc.artifactType !== undefined && typeof doc.artifactType !== 'string') throw invalid('artifactType must be a string');

  const subject = doc.subject === undefined ? undefined : descriptor(doc.subject, 'subject').digest;
  const known = isImageMediaType(mediaType) || isIndexMediaType(mediaType);
  if (known && doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2');

  if (isIndexMediaType(mediaType)) {
    const children = descriptors(doc.manifests, 'manifests', true);
    return { mediaType, artifactType: doc.artifactType as string | undefined, subject, annotations: annotations(doc.annotations),
      blobRefs: [], manifestRefs: unique(children.map((d) => d.digest)) };
  }

  const config = doc.config === undefined && !isImageMediaType(mediaType) ? undefined : descriptor(doc.config, 'config');
  const layers = descriptors(doc.layers, 'layers', isImageMediaType(mediaType));
  const blobs = descriptors(doc.blobs, 'blobs', false);
  const children = isImageMediaType(mediaType) ? [] : descriptors(doc.manifests, 'manifests', false);
  const stored = [...layers, ...blobs].filter((d) => !(isForeignLayer(d.mediaType) && d.urls?.length));
  const blobRefs = [...(config ? [config.digest] : []), ...stored.map((d) => d.digest)];
  const artifactType = (doc.artifactType as string | undefined) ?? (isImageMediaType(mediaType) ? config?.mediaType : undefined);
  return { mediaType, artifactType, subject, annotations: annotations(doc.annotations), blobRefs: unique(blobRefs),
    manifestRefs: unique(children.map((d) => d.digest)) };
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
