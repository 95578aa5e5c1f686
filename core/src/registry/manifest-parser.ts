import { RegistryError, parseDigest, type Digest } from '@wharf/sdk';
import { MediaTypes, isDockerMediaType, isForeignLayer, isImageMediaType, isIndexMediaType, isManifestMediaType } from './media-types.js';

/** A referenced blob or manifest and the size the manifest claims for it. */
export interface SizedReference {
  readonly digest: Digest;
  readonly size: number;
}

/** What the registry needs to know about a manifest to store and index it. */
export interface ParsedManifest {
  readonly mediaType: string;
  /** `artifactType`, or for an image manifest without one, its config media type (as referrers report). */
  readonly artifactType: string | undefined;
  readonly subject: Digest | undefined;
  readonly annotations: Record<string, string> | undefined;
  readonly blobRefs: Digest[];
  readonly manifestRefs: Digest[];
  /** Every stored blob and child manifest with its claimed size, checked against storage before indexing. */
  readonly sizes: SizedReference[];
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
 * Fields that make a manifest ambiguous when they appear in a document of the other kind: a body
 * that is an image manifest to one reader and an index to another (CVE-2021-41190). Refused as
 * patched distribution refuses them.
 */
const FOREIGN_FIELDS: Readonly<Record<'image' | 'index', readonly string[]>> = {
  image: ['manifests'],
  index: ['config', 'layers'],
};

function refuseForeignFields(doc: Record<string, unknown>, kind: 'image' | 'index'): void {
  const found = FOREIGN_FIELDS[kind].filter((field) => doc[field] !== undefined);
  if (found.length > 0) throw invalid(`an ${kind === 'image' ? 'image manifest' : 'index'} must not have ${found.join(' or ')}`, { fields: found });
}

/** The media type of a PUT: the Content-Type, which must be a manifest type and agree with the body. */
function mediaTypeOf(doc: Record<string, unknown>, contentType: string | undefined): string {
  if (doc.mediaType !== undefined && typeof doc.mediaType !== 'string') throw invalid('mediaType must be a string');
  const declared = doc.mediaType as string | undefined;
  const headerType = contentType?.split(';')[0]?.trim().toLowerCase() || undefined;
  const mediaType = headerType ?? declared;
  if (!mediaType) throw invalid('manifest media type unknown: send Content-Type');
  if (mediaType === MediaTypes.dockerSchema1 || mediaType === MediaTypes.dockerSchema1Signed) {
    throw new RegistryError('MANIFEST_INVALID', 'Docker schema 1 manifests are not supported', { detail: { mediaType } });
  }
  if (!isManifestMediaType(mediaType)) throw invalid('unsupported manifest media type', { mediaType: mediaType.slice(0, 200) });
  if (declared !== undefined && declared !== mediaType) {
    throw invalid('mediaType in the manifest does not match Content-Type', { mediaType: declared.slice(0, 200), contentType: mediaType });
  }
  // Docker's schema 2 formats always name themselves; only OCI documents may leave it out.
  if (declared === undefined && isDockerMediaType(mediaType)) throw invalid('a Docker manifest must declare its mediaType');
  return mediaType;
}

/**
 * Parses a manifest body. The media type comes from the request's `Content-Type`, must be one
 * of the manifest types the registry knows, and must equal the body's `mediaType` when it has
 * one. Image and index documents are checked against their schema's required fields and must
 * not carry the other kind's fields; the OCI artifact manifest records its `blobs`.
 */
export function parseManifest(payload: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (!isRecord(doc)) throw invalid('manifest must be a JSON object');
  const mediaType = mediaTypeOf(doc, contentType);
  if (doc.artifactType !== undefined && typeof doc.artifactType !== 'string') throw invalid('artifactType must be a string');

  const subject = doc.subject === undefined ? undefined : descriptor(doc.subject, 'subject').digest;
  const isImage = isImageMediaType(mediaType);
  if ((isImage || isIndexMediaType(mediaType)) && doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2');

  if (isIndexMediaType(mediaType)) {
    refuseForeignFields(doc, 'index');
    const children = descriptors(doc.manifests, 'manifests', true);
    return { mediaType, artifactType: doc.artifactType as string | undefined, subject, annotations: annotations(doc.annotations),
      blobRefs: [], manifestRefs: unique(children.map((d) => d.digest)), sizes: children.map(sized) };
  }

  // The artifact manifest has `blobs` and no children either.
  refuseForeignFields(doc, 'image');
  const config = doc.config === undefined && !isImage ? undefined : descriptor(doc.config, 'config');
  const layers = descriptors(doc.layers, 'layers', isImage);
  const blobs = descriptors(doc.blobs, 'blobs', false);
  const stored = [...(config ? [config] : []), ...[...layers, ...blobs].filter((d) => !(isForeignLayer(d.mediaType) && d.urls?.length))];
  const artifactType = (doc.artifactType as string | undefined) ?? (isImage ? config?.mediaType : undefined);
  return { mediaType, artifactType, subject, annotations: annotations(doc.annotations), blobRefs: unique(stored.map((d) => d.digest)),
    manifestRefs: [], sizes: stored.map(sized) };
}

function sized(d: Descriptor): SizedReference {
  return { digest: d.digest, size: d.size };
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
