import type { SessionUser } from '../../api/session.js';
import type { components } from '../../api/schema.js';
import { t } from '../../i18n/index.js';

export type Artifact = components['schemas']['Artifact'];
export type TagRow = components['schemas']['TagRow'];
type Platform = Artifact['platforms'][number];

export const TOOLS = ['docker', 'podman'] as const;

/** The first 12 hex digits: what people read and type; the full digest is in the title and the copy buttons. */
export const shortDigest = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);

export const platformText = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

/** An index's platforms (attestation entries of buildkit, `unknown/unknown`, left out), or "single image". */
export function platformsOf(platforms: readonly Platform[]): string {
  if (platforms.length === 0) return t('repo.singlePlatform');
  return platforms
    .filter((p) => p.os !== 'unknown')
    .map(platformText)
    .join(', ');
}

/** The path of a repository's page; each segment of the name encoded, the slashes kept. */
export function repositoryPath(repository: string): string {
  const slash = repository.indexOf('/');
  const project = repository.slice(0, slash);
  const inner = repository.slice(slash + 1);
  return `/projects/${encodeURIComponent(project)}/repositories/${inner.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * What the user's role lets them do on a repository (the API decides again; the UI only does
 * not offer what would fail): Developers add tags; Maintainers and Project Admins also remove
 * tags and delete artifacts and repositories; system administrators do everything.
 */
export function abilities(user: SessionUser, role: string | null | undefined): { addTag: boolean; remove: boolean } {
  const maintainer = user.admin || role === 'projectAdmin' || role === 'maintainer';
  return { addTag: maintainer || role === 'developer', remove: maintainer };
}

/** A referrer's kind as people name it, from its artifact type. */
export function referrerKind(artifactType: string | null, mediaType: string): string {
  const type = (artifactType ?? mediaType).toLowerCase();
  if (type.includes('sig') || type.includes('notary')) return t('repo.kind.signature');
  if (type.includes('spdx') || type.includes('cyclonedx') || type.includes('sbom') || type.includes('syft')) return t('repo.kind.sbom');
  if (type.includes('in-toto') || type.includes('attestation') || type.includes('provenance')) return t('repo.kind.attestation');
  return t('repo.kind.other');
}
