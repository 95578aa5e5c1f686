import { RegistryError, type ArtifactService, type DeleteContext, type Digest, type ManifestPutContext } from '@wharf/sdk';
import type { CompiledRule, RuleCache } from './rule-cache.js';

/** `team/app/web` is `app/web` in project `team`; a name without a project has no rules. */
export function splitRepository(repository: string): { project: string; name: string } | undefined {
  const slash = repository.indexOf('/');
  return slash <= 0 ? undefined : { project: repository.slice(0, slash), name: repository.slice(slash + 1) };
}

/** The first enabled rule (in priority order) that protects `tag` in `repository`, or undefined. */
export async function protectingRule(cache: RuleCache, repository: string, tag: string): Promise<{ project: string; rule: CompiledRule } | undefined> {
  const where = splitRepository(repository);
  if (!where) return undefined;
  const rules = await cache.rulesOf(where.project);
  const rule = rules.find((r) => r.repository(where.name) && r.tag(tag));
  return rule ? { project: where.project, rule } : undefined;
}

const ruleName = (project: string, rule: CompiledRule) => `immutability rule ${rule.id} of project ${project}`;

/**
 * The `registry.beforeManifestPut` gate: a protected tag may be pushed while it is new, and
 * pushed again with the digest it has (that changes nothing); pointing it to another digest is
 * refused. Replication and API tagging go through the same gate (coreServices.content).
 */
export async function checkManifestPut(cache: RuleCache, artifacts: ArtifactService, ctx: ManifestPutContext): Promise<void> {
  if (ctx.tag === undefined) return;
  const found = await protectingRule(cache, ctx.repository, ctx.tag);
  if (!found) return;
  const current = await artifacts.resolveTag(ctx.repository, ctx.tag);
  const refuse = (existing: Digest | undefined) =>
    new RegistryError('DENIED', `tag ${ctx.repository}:${ctx.tag} is immutable (${ruleName(found.project, found.rule)}): it points to ${existing ?? 'nothing'} and cannot be overwritten`, {
      detail: { repository: ctx.repository, tag: ctx.tag, digest: existing, rule: found.rule.id },
    });
  if (current !== undefined && current !== ctx.digest) throw refuse(current);
  // New (or unchanged): the kernel checks again with the tag's row locked, so of two concurrent
  // first pushes with different digests only one stores the tag.
  ctx.expectTag?.(current, refuse);
}

/**
 * The `registry.beforeDelete` gate: a protected tag cannot be deleted, nor an artifact that holds
 * one (by digest, or within a repository delete). Blobs are left to the kernel's own checks.
 */
export async function checkDelete(cache: RuleCache, artifacts: ArtifactService, ctx: DeleteContext): Promise<void> {
  const { repository, target } = ctx;
  if (target.kind === 'blob') return;
  if (target.kind === 'tag') {
    const found = await protectingRule(cache, repository, target.tag);
    if (found) {
      throw new RegistryError('DENIED', `tag ${repository}:${target.tag} is immutable (${ruleName(found.project, found.rule)}) and cannot be deleted`, {
        detail: { repository, tag: target.tag, rule: found.rule.id },
      });
    }
    return;
  }
  const where = splitRepository(repository);
  if (!where || (await cache.rulesOf(where.project)).length === 0) return;
  // The artifact itself, then the indexes that hold it as a child (a protected multi-platform
  // tag must keep every platform), up to MAX_INDEX_DEPTH levels.
  const seen = new Set<Digest>();
  let level: Digest[] = [target.digest];
  for (let depth = 0; level.length > 0 && depth <= MAX_INDEX_DEPTH; depth++) {
    const parents: Digest[] = [];
    for (const digest of level) {
      if (seen.has(digest)) continue;
      seen.add(digest);
      const artifact = await artifacts.getArtifact(repository, digest);
      for (const tag of artifact?.tags ?? []) {
        const found = await protectingRule(cache, repository, tag);
        if (found) throw refuseArtifact(repository, target.digest, digest, tag, found.project, found.rule);
      }
      parents.push(...(await indexesHolding(artifacts, repository, digest)));
    }
    level = parents;
  }
}

/** Nesting of indexes looked through (an index of indexes is rare; deeper is not followed). */
const MAX_INDEX_DEPTH = 4;
/** Most parent references read for one manifest. */
const MAX_PARENTS = 1000;

/** Manifests of `repository` that list `digest` as an index child. */
async function indexesHolding(artifacts: ArtifactService, repository: string, digest: Digest): Promise<Digest[]> {
  const found: Digest[] = [];
  let read = 0;
  for (let cursor: string | undefined; read < MAX_PARENTS; ) {
    const page = await artifacts.listReferencing(digest, { limit: 200, ...(cursor === undefined ? {} : { cursor }) });
    read += page.items.length;
    for (const ref of page.items) if (ref.relation === 'child' && ref.repository === repository) found.push(ref.digest);
    if (page.next === undefined) break;
    cursor = page.next;
  }
  return found;
}

function refuseArtifact(repository: string, digest: Digest, holder: Digest, tag: string, project: string, rule: CompiledRule): RegistryError {
  const what = holder === digest ? `artifact ${repository}@${digest} holds` : `artifact ${repository}@${digest} is part of the index ${holder}, which holds`;
  return new RegistryError('DENIED', `${what} the immutable tag ${tag} (${ruleName(project, rule)}) and cannot be deleted`, {
    detail: { repository, digest, tag, rule: rule.id, ...(holder === digest ? {} : { index: holder }) },
  });
}
