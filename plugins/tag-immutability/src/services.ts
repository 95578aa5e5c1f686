import { createServiceRef, compileRepositorySelectors, compileTagSelectors, selectorMatcherOrBadRequest, type RepositorySelector, type TagSelector } from '@wharf/sdk';
import { protectingRule } from './enforcement.js';
import type { RuleCache } from './rule-cache.js';
import type { AfterWrite, ImmutableTagRule, RuleInput, RuleStore } from './rule-store.js';

/**
 * Writes run `after` (an audit event) in their transaction and invalidate this node's cache once
 * it has committed; other nodes see the new version token within `recheckMs`.
 *
 * The rules as a service: the API, the CLI and other plugins (retention's dry run, a UI's
 * "immutable" badge) read and write them here; writes invalidate this node's cache at once.
 */
export interface TagImmutabilityService {
  list(project: string): Promise<ImmutableTagRule[]>;
  get(project: string, id: number): Promise<ImmutableTagRule | undefined>;
  /** Throws an `ApiError` BAD_REQUEST for a bad selector, `RuleLimitError` past the limit. */
  create(project: string, input: RuleInput, creator: string, after?: AfterWrite): Promise<ImmutableTagRule>;
  update(project: string, id: number, input: Partial<RuleInput>, after?: AfterWrite): Promise<ImmutableTagRule | undefined>;
  /** Resolves the deleted rule, undefined when there was none. */
  remove(project: string, id: number, after?: AfterWrite): Promise<ImmutableTagRule | undefined>;
  /** The id of the first enabled rule protecting `repository:tag`, or undefined. */
  protectingRule(repository: string, tag: string): Promise<number | undefined>;
}

export const tagImmutabilityServiceRef = createServiceRef<TagImmutabilityService>({ id: 'tag-immutability.rules' });

/** Checks selectors the way every write does: every problem at once, as a BAD_REQUEST. */
export function checkSelectors(repositories: readonly RepositorySelector[] | undefined, tags: readonly TagSelector[] | undefined): void {
  if (repositories !== undefined) selectorMatcherOrBadRequest(compileRepositorySelectors(repositories, 'repositories'));
  if (tags !== undefined) selectorMatcherOrBadRequest(compileTagSelectors(tags, 'tags'));
}

export function createTagImmutabilityService(store: RuleStore, cache: RuleCache, maxRules: number): TagImmutabilityService {
  return {
    list: (project) => store.list(project),
    get: (project, id) => store.get(project, id),
    async create(project, input, creator, after) {
      checkSelectors(input.repositories, input.tags);
      try {
        return await store.create(project, input, creator, maxRules, after);
      } finally {
        cache.invalidate(project);
      }
    },
    async update(project, id, input, after) {
      checkSelectors(input.repositories, input.tags);
      try {
        return await store.update(project, id, input, after);
      } finally {
        cache.invalidate(project);
      }
    },
    async remove(project, id, after) {
      try {
        return await store.remove(project, id, after);
      } finally {
        cache.invalidate(project);
      }
    },
    async protectingRule(repository, tag) {
      return (await protectingRule(cache, repository, tag))?.rule.id;
    },
  };
}
