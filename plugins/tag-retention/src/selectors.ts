import { compileRepositorySelectors, compileTagSelectors, selectorMatcherOrBadRequest } from '@wharf/sdk';
import type { CompiledRule } from './evaluate.js';
import type { RetentionRule } from './model.js';

/**
 * A policy's rules with their selectors compiled by the SDK's selectors (Harbor's doublestar
 * globs and anchored regexes, shared with tag immutability). A bad pattern is an `ApiError`
 * `BAD_REQUEST` naming the rule; rules read back from the database were checked when written.
 */
export function compileRules(rules: readonly RetentionRule[]): CompiledRule[] {
  return rules.map((rule, i) => ({
    number: i + 1,
    rule,
    repositories: selectorMatcherOrBadRequest(compileRepositorySelectors(rule.repositories, `rules[${i}].repositories`)),
    tags: selectorMatcherOrBadRequest(compileTagSelectors(rule.tags, `rules[${i}].tags`)),
  }));
}

/** How a selector list reads in a reason or a table: `matches "v*", excludes /rc.*\/`. */
export function describeSelectors(selectors: readonly { kind: string; decoration: string; pattern: string }[]): string {
  if (selectors.length === 0) return 'all';
  return selectors.map((s) => `${s.decoration.replace(/^repo(\w)/, (_, c: string) => c.toLowerCase())} ${s.kind === 'regex' ? `/${s.pattern}/` : `"${s.pattern}"`}`).join(', ');
}
