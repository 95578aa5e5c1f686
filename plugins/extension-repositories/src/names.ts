import { ApiError, isDigest, type Digest } from '@wharf/sdk';

/**
 * Names in the API's paths and queries. A repository is addressed by its project and its name
 * inside the project (`/projects/team/repositories/app%2Fweb` is `team/app/web`). A slash in the
 * name is URL-encoded, as Harbor does; Harbor's clients encode it twice (`app%252Fweb`), which is
 * accepted too: a repository name never holds `%`, so a second decoding cannot be ambiguous.
 */

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const MAX_NAME = 255;

/** True for a repository name of the OCI grammar (lowercase components joined by `/`). */
export function isRepositoryName(name: string): boolean {
  return name.length <= MAX_NAME && REPOSITORY.test(name);
}

export function isTag(value: string): boolean {
  return TAG.test(value);
}

/** The full repository name of `{project_name}` and `{repository_name}` (decoded once more if still encoded). */
export function repositoryOf(project: string, encodedName: string): string {
  let name = encodedName;
  if (name.includes('%')) {
    try {
      name = decodeURIComponent(name);
    } catch {
      // Left as is: the grammar check below refuses it.
    }
  }
  const full = `${project}/${name}`;
  if (!isRepositoryName(full)) {
    throw new ApiError('BAD_REQUEST', `invalid repository name "${full.slice(0, 300)}": lowercase letters and digits, separators (. _ __ -) between them, components joined by / (URL-encoded as %2F in the path)`);
  }
  return full;
}

/** The project part of a full repository name. */
export function projectOf(repository: string): string {
  return repository.slice(0, repository.indexOf('/'));
}

export type Reference = { readonly kind: 'digest'; readonly digest: Digest } | { readonly kind: 'tag'; readonly tag: string };

/** A tag or digest from a path; a 400 in the API's terms when it is neither. */
export function parseReference(value: string): Reference {
  if (value.includes(':')) {
    if (!isDigest(value)) throw new ApiError('BAD_REQUEST', `invalid digest "${value.slice(0, 200)}": expected sha256:<64 hex> or sha512:<128 hex>`);
    return { kind: 'digest', digest: value };
  }
  if (!isTag(value)) throw new ApiError('BAD_REQUEST', `invalid tag "${value.slice(0, 200)}": up to 128 letters, digits, _ . - (not starting with . or -)`);
  return { kind: 'tag', tag: value };
}

/** `team/app@sha256:...` or `team/app:v1` (the copy's `from`, the CLI's artifact argument). */
export function parseArtifactAddress(value: string, what = 'from'): { repository: string; reference: Reference } {
  const at = value.indexOf('@');
  const colon = value.lastIndexOf(':');
  const slash = value.lastIndexOf('/');
  let repository: string;
  let reference: string;
  if (at >= 0) {
    repository = value.slice(0, at);
    reference = value.slice(at + 1);
  } else if (colon > slash) {
    repository = value.slice(0, colon);
    reference = value.slice(colon + 1);
  } else {
    throw new ApiError('BAD_REQUEST', `invalid ${what} "${value.slice(0, 300)}": expected <project>/<repository>@<digest> or <project>/<repository>:<tag>`);
  }
  if (!isRepositoryName(repository) || !repository.includes('/')) {
    throw new ApiError('BAD_REQUEST', `invalid ${what} "${value.slice(0, 300)}": "${repository.slice(0, 255)}" is not a repository name of a project (<project>/<name>)`);
  }
  return { repository, reference: parseReference(reference) };
}
