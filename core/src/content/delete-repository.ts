import { RegistryError, type Digest, type KernelHooks } from '@wharf/sdk';
import type { EventRecorder } from '../events/events-runtime.js';
import { registryDrafts } from '../events/registry-drafts.js';
import type { MetadataStore } from '../metadata/types.js';
import type { Actor, ManifestService } from '../registry/manifest-service.js';

/**
 * `content.deleteRepository`: the policy gates are asked about every manifest first (one refusal
 * deletes nothing), then the store deletes the repository in one transaction with a
 * `registry.manifest.deleted` event per manifest and `registry.repository.deleted`, provided
 * it still holds exactly the manifests the gates saw. Resolves the deleted digests.
 */

export interface RepositoryDeleteDeps {
  readonly metadata: MetadataStore;
  readonly hooks: KernelHooks;
  readonly recorder: EventRecorder;
  readonly manifests: ManifestService;
}

/** Manifests fetched per page while gathering what to delete. */
const PAGE = 1000;

export async function deleteRepository(deps: RepositoryDeleteDeps, repository: string, actor: Actor): Promise<Digest[]> {
  const { metadata, hooks, recorder, manifests } = deps;
  manifests.assertDeletesEnabled();
  if (!(await metadata.repositoryExists(repository))) throw new RegistryError('NAME_UNKNOWN', undefined, { detail: { name: repository } });
  const digests: Digest[] = [];
  for (let cursor: string | undefined; ; ) {
    const page = await metadata.listArtifacts(repository, { limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
    digests.push(...page.items.map((a) => a.digest));
    if (page.next === undefined) break;
    cursor = page.next;
  }
  for (const digest of digests) {
    await hooks.registry.beforeDelete.promise({ repository, target: { kind: 'manifest', digest }, ...actor });
  }
  const record = recorder.writer([
    ...digests.map((digest) => registryDrafts.manifestDeleted({ repository, digest, tag: undefined }, actor)),
    registryDrafts.repositoryDeleted({ repository }, actor),
  ]);
  const result = await metadata.deleteRepository(repository, digests, record);
  if (result.outcome === 'unknown') throw new RegistryError('NAME_UNKNOWN', undefined, { detail: { name: repository } });
  if (result.outcome === 'changed') {
    throw new RegistryError('DENIED', `repository ${repository} changed while it was being deleted (a push?); nothing was deleted, try again`, { status: 409 });
  }
  return digests;
}
