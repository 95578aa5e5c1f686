import type { ArtifactInfo, Digest } from '@wharf/sdk';
import { TEMPLATES, type RetentionRule } from './model.js';
import { describeSelectors } from './selectors.js';

/**
 * The retention decision for one repository, a pure function of the rules, the repository's
 * artifacts and the time. The semantics (also in ADR 0032 and the API docs):
 *
 * 1. A repository is covered when at least one enabled rule's repository selector matches its
 *    name inside the project. Repositories no rule covers are left alone.
 * 2. In a covered repository, a rule's candidates are the artifacts with at least one tag its
 *    tag selector accepts, plus the untagged ones when the rule includes untagged artifacts.
 *    Referrers (signatures, SBOMs) and untagged index children are not candidates: they follow
 *    the artifact they belong to (3).
 * 3. The rule keeps some of its candidates by its template: the K most recently pushed, the N
 *    most recently pulled (never-pulled artifacts rank after pulled ones, newest push first),
 *    those pushed or pulled within N days, or all of them (`always`).
 * 4. An artifact is retained when any rule keeps it. Children of a retained index and referrers
 *    of a retained artifact are retained with it; everything else in the repository, tagged or
 *    not, is deleted, whole (every tag of it).
 */

export type Matcher = (value: string) => boolean;

/** A rule with its selectors compiled. `number` is its 1-based place in the policy. */
export interface CompiledRule {
  readonly number: number;
  readonly rule: RetentionRule;
  readonly repositories: Matcher;
  readonly tags: Matcher;
}

export interface Verdict {
  readonly artifact: ArtifactInfo;
  readonly keep: boolean;
  readonly reason: string;
  /** The artifacts this one belongs to in the repository (its subject, the indexes listing it). */
  readonly parents: readonly Digest[];
}

const DAY_MS = 86_400_000;

/** The rules covering a repository (its name inside the project). */
export function rulesCovering(rules: readonly CompiledRule[], nameInProject: string): CompiledRule[] {
  return rules.filter((r) => !r.rule.disabled && r.repositories(nameInProject));
}

export function describeRule(r: CompiledRule): string {
  const t = TEMPLATES[r.rule.template];
  const tags = `tags ${describeSelectors(r.rule.tags)}`;
  return `rule ${r.number} (${t.describe(r.rule.value ?? 0)}, ${tags}${r.rule.untagged ? ', untagged included' : ''})`;
}

const byPushDesc = (a: ArtifactInfo, b: ArtifactInfo) => b.pushedAt.getTime() - a.pushedAt.getTime() || (a.digest < b.digest ? -1 : 1);
const byPullDesc = (a: ArtifactInfo, b: ArtifactInfo) => {
  const pa = a.pulledAt?.getTime() ?? -Infinity;
  const pb = b.pulledAt?.getTime() ?? -Infinity;
  return pa === pb ? byPushDesc(a, b) : pb - pa;
};

/** Which of a rule's candidates its template keeps. */
function kept(rule: RetentionRule, candidates: readonly ArtifactInfo[], now: Date): ArtifactInfo[] {
  const n = rule.value ?? 0;
  switch (rule.template) {
    case 'latestPushedK':
      return [...candidates].sort(byPushDesc).slice(0, n);
    case 'latestPulledN':
      return [...candidates].sort(byPullDesc).slice(0, n);
    case 'nDaysSinceLastPush':
      return candidates.filter((a) => a.pushedAt.getTime() >= now.getTime() - n * DAY_MS);
    case 'nDaysSinceLastPull':
      return candidates.filter((a) => a.pulledAt !== undefined && a.pulledAt.getTime() >= now.getTime() - n * DAY_MS);
    case 'always':
      return [...candidates];
  }
}

/** Parents within the repository: the subject, and the indexes listing an untagged artifact. */
function parentsOf(artifacts: readonly ArtifactInfo[]): Map<Digest, Digest[]> {
  const present = new Set(artifacts.map((a) => a.digest));
  const parents = new Map<Digest, Digest[]>();
  const add = (child: Digest, parent: Digest) => parents.set(child, [...(parents.get(child) ?? []), parent]);
  const untagged = new Set(artifacts.filter((a) => a.tags.length === 0).map((a) => a.digest));
  for (const a of artifacts) {
    if (a.subject && present.has(a.subject)) add(a.digest, a.subject);
    for (const child of a.children) if (untagged.has(child) && child !== a.digest) add(child, a.digest);
  }
  return parents;
}

export function evaluateRepository(rules: readonly CompiledRule[], artifacts: readonly ArtifactInfo[], now: Date): Verdict[] {
  const parents = parentsOf(artifacts);
  const own = artifacts.filter((a) => !parents.has(a.digest));
  const keptBy = new Map<Digest, number[]>();
  const selectedBy = new Map<Digest, number[]>();
  for (const r of rules) {
    const candidates = own.filter((a) => (a.tags.length > 0 ? a.tags.some(r.tags) : r.rule.untagged));
    for (const a of candidates) selectedBy.set(a.digest, [...(selectedBy.get(a.digest) ?? []), r.number]);
    for (const a of kept(r.rule, candidates, now)) keptBy.set(a.digest, [...(keptBy.get(a.digest) ?? []), r.number]);
  }
  const reasons = new Map<Digest, { keep: boolean; reason: string }>();
  const ruleText = (numbers: number[]) => numbers.map((n) => describeRule(rules.find((r) => r.number === n)!)).join('; ');
  for (const a of own) {
    const keptNumbers = keptBy.get(a.digest);
    if (keptNumbers) {
      reasons.set(a.digest, { keep: true, reason: `kept by ${ruleText(keptNumbers)}` });
      continue;
    }
    const selected = selectedBy.get(a.digest);
    const reason = selected
      ? `selected but not kept by ${ruleText(selected)}`
      : a.tags.length === 0
        ? 'untagged, and no rule includes untagged artifacts'
        : `no rule selects tags ${a.tags.join(', ')}`;
    reasons.set(a.digest, { keep: false, reason });
  }
  // Dependents follow their parents; a chain (a signature of an index child) settles in a few passes.
  const dependents = artifacts.filter((a) => parents.has(a.digest));
  for (let pass = 0; pass <= dependents.length && reasons.size < artifacts.length; pass++) {
    for (const a of dependents) {
      if (reasons.has(a.digest)) continue;
      const ps = parents.get(a.digest)!;
      const keptParent = ps.find((p) => reasons.get(p)?.keep);
      if (keptParent) reasons.set(a.digest, { keep: true, reason: `kept with ${a.subject === keptParent ? 'its subject' : 'its index'} ${keptParent}` });
      else if (ps.every((p) => reasons.has(p))) reasons.set(a.digest, { keep: false, reason: `${a.subject && ps.includes(a.subject) ? 'its subject' : 'its index'} is deleted` });
    }
  }
  return artifacts.map((a) => {
    const r = reasons.get(a.digest) ?? { keep: true, reason: 'kept: its references form a cycle' };
    return { artifact: a, keep: r.keep, reason: r.reason, parents: parents.get(a.digest) ?? [] };
  });
}

/** Deletions in an order that removes an index or subject before what belongs to it. */
export function deletionOrder(verdicts: readonly Verdict[]): Verdict[] {
  const byDigest = new Map(verdicts.map((v) => [v.artifact.digest, v]));
  const depth = (v: Verdict, seen = new Set<Digest>()): number => {
    if (seen.has(v.artifact.digest)) return 0;
    seen.add(v.artifact.digest);
    return v.parents.reduce((d, p) => Math.max(d, 1 + depth(byDigest.get(p) ?? v, seen)), 0);
  };
  return verdicts.filter((v) => !v.keep).map((v) => ({ v, d: depth(v) })).sort((a, b) => a.d - b.d).map(({ v }) => v);
}
