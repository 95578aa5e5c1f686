import { parseDigest, ReplicationTargetError, type ContentDescriptor, type Digest, type RemoteManifest } from '@wharf/sdk';
import { pull } from './auth/scopes.js';
import { parseOciError } from './client/errors.js';
import { headerOf, type Answer, type Operation, type RegistryClient } from './client/http.js';
import { digestOf } from './digest.js';
import { getManifest, MAX_MANIFEST_BYTES, MEDIA_TYPES, putManifest } from './manifests.js';
import { checkRepository } from './names.js';
import { nextLink } from './listings.js';

/**
 * Referrers (OCI 1.1): the referrers API where the registry has it, else the tag schema
 * (`sha256-<hex>` holding an index of referrers), which clients maintain themselves on
 * registries that ignore `subject` (distribution 2.x).
 */

interface RawDescriptor {
  mediaType?: unknown;
  digest?: unknown;
  size?: unknown;
  artifactType?: unknown;
  annotations?: unknown;
}

/** The fallback tag of a subject: `<alg>-<hex>`, at most 128 characters. */
export function referrersTag(subject: Digest): string {
  return subject.replace(':', '-').slice(0, 128);
}

function descriptorOf(raw: RawDescriptor): ContentDescriptor | undefined {
  if (typeof raw.mediaType !== 'string' || typeof raw.digest !== 'string' || typeof raw.size !== 'number') return undefined;
  if (!parseDigest(raw.digest).ok) return undefined;
  const annotations =
    raw.annotations && typeof raw.annotations === 'object' && Object.values(raw.annotations).every((v) => typeof v === 'string')
      ? (raw.annotations as Record<string, string>)
      : undefined;
  return {
    mediaType: raw.mediaType,
    digest: raw.digest,
    size: raw.size,
    ...(typeof raw.artifactType === 'string' ? { artifactType: raw.artifactType } : {}),
    ...(annotations ? { annotations } : {}),
  };
}

function manifestsOf(payload: Buffer): ContentDescriptor[] {
  const index = JSON.parse(payload.toString('utf8')) as { manifests?: unknown };
  if (!Array.isArray(index.manifests)) return [];
  return index.manifests.flatMap((m: RawDescriptor) => descriptorOf(m) ?? []);
}

export async function listReferrers(client: RegistryClient, repository: string, subject: Digest): Promise<ContentDescriptor[] | undefined> {
  const op: Operation = { name: `listReferrers ${repository}@${subject}`, scopes: [pull(repository)] };
  let url: URL | undefined = client.resolve(`/v2/${checkRepository(repository)}/referrers/${subject}`);
  const out: ContentDescriptor[] = [];
  while (url) {
    const answer: Answer = await client.expect(op, { method: 'GET', url, headers: { accept: MEDIA_TYPES.ociIndex } }, [200, 404]);
    const body = await client.readAll(op, answer, MAX_MANIFEST_BYTES);
    if (answer.status === 404) {
      const oci = parseOciError(body.toString('utf8'));
      // An OCI error is the API answering (unknown repository or subject); a bare 404 is no API.
      if (oci) return out;
      return fromTagSchema(client, repository, subject);
    }
    try {
      out.push(...manifestsOf(body));
    } catch {
      throw new ReplicationTargetError('INVALID', `${client.label}: ${op.name} failed: the referrers answer is not an image index`, { retryable: false });
    }
    const next = nextLink(headerOf(answer, 'link'), answer.url);
    url = next;
  }
  return out;
}

async function fromTagSchema(client: RegistryClient, repository: string, subject: Digest): Promise<ContentDescriptor[] | undefined> {
  let index: RemoteManifest | undefined;
  try {
    index = await getManifest(client, repository, referrersTag(subject));
  } catch (err) {
    // A registry refusing such a tag supports neither way.
    if (err instanceof ReplicationTargetError && (err.code === 'INVALID' || err.code === 'UNSUPPORTED')) return undefined;
    throw err;
  }
  if (!index || index.mediaType !== MEDIA_TYPES.ociIndex) return [];
  try {
    return manifestsOf(index.payload);
  } catch {
    return [];
  }
}

/** The descriptor of a manifest as a referrer: with its artifact type and annotations. */
export function referrerDescriptor(manifest: RemoteManifest): { subject: Digest; descriptor: Record<string, unknown> } | undefined {
  let parsed: { subject?: { digest?: unknown }; artifactType?: unknown; config?: { mediaType?: unknown }; annotations?: unknown };
  try {
    parsed = JSON.parse(manifest.payload.toString('utf8')) as typeof parsed;
  } catch {
    return undefined;
  }
  const subject = parsed.subject?.digest;
  if (typeof subject !== 'string' || !parseDigest(subject).ok) return undefined;
  // The image spec's rule: artifactType, else the config's media type (image manifests).
  const artifactType = typeof parsed.artifactType === 'string' ? parsed.artifactType : typeof parsed.config?.mediaType === 'string' ? parsed.config.mediaType : undefined;
  return {
    subject,
    descriptor: {
      mediaType: manifest.mediaType,
      digest: manifest.digest,
      size: manifest.size,
      ...(artifactType ? { artifactType } : {}),
      ...(parsed.annotations && typeof parsed.annotations === 'object' ? { annotations: parsed.annotations } : {}),
    },
  };
}

/**
 * Adds a referrer to its subject's fallback tag index, as the distribution spec asks clients to
 * when a registry stored a manifest with a `subject` but answered without `OCI-Subject`.
 * Last writer wins, as for every client doing this; a referrer already listed is left alone.
 */
export async function addToReferrersTag(client: RegistryClient, repository: string, subject: Digest, descriptor: Record<string, unknown>): Promise<void> {
  const tag = referrersTag(subject);
  const current = await getManifest(client, repository, tag);
  let manifests: unknown[] = [];
  let base: Record<string, unknown> = {};
  if (current && current.mediaType === MEDIA_TYPES.ociIndex) {
    try {
      base = JSON.parse(current.payload.toString('utf8')) as Record<string, unknown>;
      manifests = Array.isArray(base['manifests']) ? (base['manifests'] as unknown[]) : [];
    } catch {
      base = {};
    }
  }
  if (manifests.some((m) => (m as RawDescriptor).digest === descriptor['digest'])) return;
  const index = { ...base, schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [...manifests, descriptor] };
  const payload = Buffer.from(JSON.stringify(index));
  await putManifest(client, repository, tag, { digest: digestOf(payload), mediaType: MEDIA_TYPES.ociIndex, size: payload.length, payload });
}
