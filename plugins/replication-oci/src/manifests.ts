import { ReplicationTargetError, type Digest, type ManifestInfo, type RemoteManifest } from '@wharf/sdk';
import { pull, push, remove } from './auth/scopes.js';
import { protocolError } from './client/errors.js';
import { headerOf, type Answer, type Operation, type RegistryClient } from './client/http.js';
import { digestOf } from './digest.js';
import { checkReference, checkRepository, isDigestReference } from './names.js';

/**
 * Manifests by tag or digest: exact bytes both ways (never parsed and re-serialized), and the
 * digest of every received manifest checked against what was asked for or announced.
 */

export const MEDIA_TYPES = Object.freeze({
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
});

/** Every manifest type we can replicate, then anything: a registry must not refuse an artifact we did not list. */
export const MANIFEST_ACCEPT = [...Object.values(MEDIA_TYPES), '*/*'].join(', ');

/** Registries refuse manifests above 4 MiB (distribution, Harbor); twice that is a safe ceiling. */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

const GENERIC_TYPES = new Set(['', 'application/json', 'application/octet-stream', 'text/plain']);

function manifestPath(repository: string, reference: string): string {
  return `/v2/${checkRepository(repository)}/manifests/${checkReference(reference)}`;
}

/** The media type of an answer, falling back to the payload's own `mediaType` for generic types. */
function mediaTypeOf(answer: Answer, payload: Buffer | undefined): string {
  const header = (headerOf(answer, 'content-type') ?? '').split(';')[0]?.trim() ?? '';
  if (!GENERIC_TYPES.has(header) || payload === undefined) return header || 'application/octet-stream';
  try {
    const mediaType = (JSON.parse(payload.toString('utf8')) as { mediaType?: unknown }).mediaType;
    if (typeof mediaType === 'string' && mediaType) return mediaType;
  } catch {
    // Not JSON: keep what the registry said.
  }
  return header || 'application/octet-stream';
}

export async function getManifest(client: RegistryClient, repository: string, reference: string): Promise<RemoteManifest | undefined> {
  const op: Operation = { name: `getManifest ${repository}:${reference}`, scopes: [pull(repository)] };
  const answer = await client.expect(op, { method: 'GET', url: manifestPath(repository, reference), headers: { accept: MANIFEST_ACCEPT } }, [200, 404]);
  if (answer.status === 404) {
    await answer.body.dump().catch(() => undefined);
    return undefined;
  }
  const payload = await client.readAll(op, answer, MAX_MANIFEST_BYTES);
  const announced = headerOf(answer, 'docker-content-digest');
  // A digest reference is what we trust; otherwise what the registry announced, checked.
  const expected = isDigestReference(reference) ? reference : announced;
  const digest = digestOf(payload, expected);
  if (expected !== undefined && digest !== expected) {
    throw protocolError(client.ctx(op.name), `the manifest received has digest ${digest}, not ${expected}`);
  }
  return { digest, mediaType: mediaTypeOf(answer, payload), size: payload.length, payload };
}

export async function headManifest(client: RegistryClient, repository: string, reference: string): Promise<ManifestInfo | undefined> {
  const op: Operation = { name: `headManifest ${repository}:${reference}`, scopes: [pull(repository)] };
  const answer = await client.expect(op, { method: 'HEAD', url: manifestPath(repository, reference), headers: { accept: MANIFEST_ACCEPT } }, [200, 404]);
  await answer.body.dump().catch(() => undefined);
  if (answer.status === 404) return undefined;
  const digest = headerOf(answer, 'docker-content-digest');
  const length = Number(headerOf(answer, 'content-length'));
  const mediaType = mediaTypeOf(answer, undefined);
  // Registries that omit the digest or give a generic type on HEAD: the body tells.
  if (!digest || !Number.isSafeInteger(length) || GENERIC_TYPES.has(mediaType) || (isDigestReference(reference) && digest !== reference)) {
    const manifest = await getManifest(client, repository, reference);
    return manifest && { digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.size };
  }
  return { digest: digest as Digest, mediaType, size: length };
}

/** Stores the exact bytes; resolves the answer, whose `OCI-Subject` header the referrers code reads. */
export async function putManifest(client: RegistryClient, repository: string, reference: string, manifest: RemoteManifest): Promise<Answer> {
  const op: Operation = { name: `putManifest ${repository}:${reference}`, scopes: [push(repository)] };
  const actual = digestOf(manifest.payload, manifest.digest);
  if (actual !== manifest.digest || manifest.size !== manifest.payload.length) {
    throw new ReplicationTargetError('INVALID', `${client.label}: ${op.name}: the payload has digest ${actual} and ${manifest.payload.length} bytes, not ${manifest.digest} and ${manifest.size}`, { retryable: false });
  }
  if (isDigestReference(reference) && reference !== manifest.digest) {
    throw new ReplicationTargetError('INVALID', `${client.label}: ${op.name}: the manifest's digest is ${manifest.digest}`, { retryable: false });
  }
  const answer = await client.expect(
    op,
    { method: 'PUT', url: manifestPath(repository, reference), headers: { 'content-type': manifest.mediaType }, body: manifest.payload },
    [200, 201, 202, 204],
  );
  await answer.body.dump().catch(() => undefined);
  const stored = headerOf(answer, 'docker-content-digest');
  if (stored && stored.split(':')[0] === manifest.digest.split(':')[0] && stored !== manifest.digest) {
    throw protocolError(client.ctx(op.name), `the registry stored digest ${stored}, not ${manifest.digest}`);
  }
  return answer;
}

export async function deleteManifest(client: RegistryClient, repository: string, reference: string): Promise<void> {
  const op: Operation = { name: `deleteManifest ${repository}:${reference}`, scopes: [remove(repository)] };
  const byDigest = isDigestReference(reference);
  // A missing tag resolves even on registries that cannot delete tags.
  if (!byDigest && !(await headManifest(client, repository, reference))) return;
  const answer = await client.send(op, { method: 'DELETE', url: manifestPath(repository, reference) });
  if ([200, 202, 204, 404].includes(answer.status)) {
    await answer.body.dump().catch(() => undefined);
    return;
  }
  const error = await client.errorOf(op, answer);
  // distribution 2.x parses the reference as a digest: a tag gets 400 DIGEST_INVALID.
  const ociCode = error instanceof ReplicationTargetError ? error.details.ociCode : undefined;
  if (!byDigest && (answer.status === 405 || (answer.status === 400 && (ociCode === 'DIGEST_INVALID' || ociCode === 'UNSUPPORTED')))) {
    throw new ReplicationTargetError('UNSUPPORTED', `${client.label}: ${op.name} failed: the registry cannot delete a tag alone; delete the manifest by digest`, {
      status: answer.status,
      ...(ociCode ? { ociCode } : {}),
      retryable: false,
    });
  }
  throw error;
}
