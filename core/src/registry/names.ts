import { RegistryError, parseDigest, type Digest } from '@wharf/sdk';

/**
 * Names as the distribution spec's grammar defines them. Checking them before anything else
 * means no user input can reach a storage path or a query unvalidated.
 */

const NAME_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const REPOSITORY_NAME = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** The spec caps name + registry host below 255 characters; we cap the name itself. */
export const MAX_REPOSITORY_NAME_LENGTH = 255;

export function isRepositoryName(name: string): boolean {
  return name.length <= MAX_REPOSITORY_NAME_LENGTH && REPOSITORY_NAME.test(name);
}

/** Throws `NAME_INVALID` unless `name` is a valid repository name. */
export function assertRepositoryName(name: string): string {
  if (!isRepositoryName(name)) {
    throw new RegistryError('NAME_INVALID', 'invalid repository name', { detail: { name: name.slice(0, 300) } });
  }
  return name;
}

export function isTag(value: string): boolean {
  return TAG.test(value);
}

/** Parses a digest from a URL or query, throwing `DIGEST_INVALID` with the reason. */
export function requireDigest(value: string | undefined, what = 'digest'): Digest {
  if (value === undefined || value === '') throw new RegistryError('DIGEST_INVALID', `${what} is required`);
  const parsed = parseDigest(value);
  if (!parsed.ok) {
    const why = parsed.reason === 'unsupported-algorithm' ? 'unsupported digest algorithm' : 'invalid digest';
    throw new RegistryError('DIGEST_INVALID', `${why}: ${value.slice(0, 200)}`, { detail: { digest: value.slice(0, 200) } });
  }
  return parsed.digest;
}

/** A manifest reference: a tag or a digest. */
export type Reference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: Digest };

/** Parses `<reference>` of `/v2/<name>/manifests/<reference>`. */
export function parseReference(value: string): Reference {
  if (value.includes(':')) return { kind: 'digest', digest: requireDigest(value) };
  if (!isTag(value)) throw new RegistryError('TAG_INVALID', 'invalid tag', { status: 400, detail: { tag: value.slice(0, 200) } });
  return { kind: 'tag', tag: value };
}

/**
 * Parses the reference of a manifest GET or HEAD. A reference that is neither a tag nor a
 * digest names nothing that could exist: `MANIFEST_UNKNOWN` (404), as distribution and zot
 * answer, so clients take it for "not there". A PUT keeps its 400 (`TAG_INVALID`).
 */
export function parseReadReference(value: string): Reference {
  try {
    return parseReference(value);
  } catch {
    throw new RegistryError('MANIFEST_UNKNOWN', 'no manifest can have this reference', { detail: { reference: value.slice(0, 200) } });
  }
}
