import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArtifactInfo, Digest, RepositorySelector, TagSelector } from '@wharf/sdk';
import { deletionOrder, evaluateRepository, rulesCovering } from './evaluate.js';
import type { RetentionRule } from './model.js';
import { compileRules } from './selectors.js';

// The decision of one repository, without a database: each template, selectors, untagged,
// OR-ing of rules, indexes and referrers following what they belong to, and deletion order.

const NOW = new Date('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
const digest = (n: string) => `sha256:${n.padStart(64, '0')}` as Digest;

function artifact(id: string, tags: string[], pushedDaysAgo: number, pulledDaysAgo?: number, extra: Partial<ArtifactInfo> = {}): ArtifactInfo {
  return {
    repository: 'p/app', digest: digest(id), mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: undefined, manifestSize: 100, size: 1000,
    tags, subject: undefined, children: [], pushedAt: new Date(NOW.getTime() - pushedDaysAgo * DAY),
    pulledAt: pulledDaysAgo === undefined ? undefined : new Date(NOW.getTime() - pulledDaysAgo * DAY), ...extra,
  };
}
const glob = (pattern: string, decoration: TagSelector['decoration'] = 'matches'): TagSelector[] => [{ kind: 'doublestar', decoration, pattern }];
const repos = (pattern: string): RepositorySelector[] => [{ kind: 'doublestar', decoration: 'repoMatches', pattern }];
const rule = (template: RetentionRule['template'], value: number | undefined, tags = glob('**'), extra: Partial<RetentionRule> = {}): RetentionRule => ({
  template, ...(value === undefined ? {} : { value }), repositories: repos('**'), tags, untagged: false, disabled: false, ...extra,
});
const keptIds = (rules: RetentionRule[], artifacts: ArtifactInfo[]) =>
  evaluateRepository(compileRules(rules), artifacts, NOW).filter((v) => v.keep).map((v) => v.artifact.tags[0] ?? v.artifact.digest.slice(-2)).sort();

const A = [artifact('1', ['v1'], 10, 1), artifact('2', ['v2'], 8), artifact('3', ['v3'], 5, 20), artifact('4', ['dev-1'], 2, 3), artifact('5', ['v5'], 1)];

describe('retention evaluation', () => {
  it('keeps the K most recently pushed among the tags a rule selects', () => {
    assert.deepEqual(keptIds([rule('latestPushedK', 2)], A), ['dev-1', 'v5']);
    assert.deepEqual(keptIds([rule('latestPushedK', 2, glob('v*'))], A), ['v3', 'v5']);
  });

  it('keeps the N most recently pulled; never-pulled rank after pulled, newest push first', () => {
    assert.deepEqual(keptIds([rule('latestPulledN', 2)], A), ['dev-1', 'v1']);
    assert.deepEqual(keptIds([rule('latestPulledN', 4)], A), ['dev-1', 'v1', 'v3', 'v5']);
  });

  it('keeps what was pushed or pulled within N days', () => {
    assert.deepEqual(keptIds([rule('nDaysSinceLastPush', 5)], A), ['dev-1', 'v3', 'v5']);
    assert.deepEqual(keptIds([rule('nDaysSinceLastPull', 5)], A), ['dev-1', 'v1']);
  });

  it('keeps everything a rule selects with always; excludes and regex selectors', () => {
    assert.deepEqual(keptIds([rule('always', undefined, glob('dev-*', 'excludes'))], A), ['v1', 'v2', 'v3', 'v5']);
    assert.deepEqual(keptIds([rule('always', undefined, [{ kind: 'doublestar', decoration: 'matches', pattern: 'v*' }, { kind: 'regex', decoration: 'excludes', pattern: 'v[35]' }])], A), ['v1', 'v2']);
    assert.deepEqual(keptIds([rule('always', undefined, [{ kind: 'regex', decoration: 'matches', pattern: 'v[12]' }])], A), ['v1', 'v2']);
  });

  it('ORs rules and explains every verdict', () => {
    const verdicts = evaluateRepository(compileRules([rule('latestPushedK', 1, glob('v*')), rule('always', undefined, glob('dev-*'))]), A, NOW);
    const by = (tag: string) => verdicts.find((v) => v.artifact.tags.includes(tag))!;
    assert.equal(by('v5').keep, true);
    assert.match(by('v5').reason, /^kept by rule 1 \(the 1 most recently pushed, tags matches "v\*"\)$/);
    assert.match(by('dev-1').reason, /^kept by rule 2 \(always/);
    assert.equal(by('v1').keep, false);
    assert.match(by('v1').reason, /^selected but not kept by rule 1/);
    const covering = rulesCovering(compileRules([rule('always', undefined, glob('v*'), { disabled: true }), rule('always', undefined, glob('**'), { repositories: repos('app') })]), 'app');
    assert.deepEqual(covering.map((r) => r.number), [2], 'a disabled rule covers nothing');
    assert.equal(rulesCovering(compileRules([rule('always', undefined, glob('**'), { repositories: repos('app') })]), 'app/web').length, 0);
  });

  it('deletes untagged artifacts unless a rule includes them', () => {
    const untagged = [...A, artifact('6', [], 0)];
    const v = evaluateRepository(compileRules([rule('always', undefined)]), untagged, NOW).find((x) => x.artifact.tags.length === 0)!;
    assert.equal(v.keep, false);
    assert.equal(v.reason, 'untagged, and no rule includes untagged artifacts');
    assert.equal(evaluateRepository(compileRules([rule('always', undefined, glob('**'), { untagged: true })]), untagged, NOW).every((x) => x.keep), true);
  });

  it('keeps index children and referrers with what they belong to, deletes them with it, parents first', () => {
    const childA = artifact('a1', [], 9);
    const childB = artifact('b1', [], 9);
    const kept = artifact('i1', ['multi-new'], 1, undefined, { children: [childA.digest] });
    const old = artifact('i2', ['multi-old'], 9, undefined, { children: [childB.digest] });
    const sig = artifact('s1', [], 9, undefined, { subject: kept.digest });
    const oldSig = artifact('s2', [], 9, undefined, { subject: old.digest });
    const verdicts = evaluateRepository(compileRules([rule('latestPushedK', 1)]), [childA, childB, kept, old, sig, oldSig], NOW);
    const of = (a: ArtifactInfo) => verdicts.find((v) => v.artifact.digest === a.digest)!;
    assert.deepEqual([of(kept).keep, of(childA).keep, of(sig).keep], [true, true, true]);
    assert.match(of(childA).reason, /kept with its index/);
    assert.match(of(sig).reason, /kept with its subject/);
    assert.deepEqual([of(old).keep, of(childB).keep, of(oldSig).keep], [false, false, false]);
    assert.equal(of(oldSig).reason, 'its subject is deleted');
    assert.equal(deletionOrder(verdicts)[0]!.artifact.digest, old.digest, 'the index goes before its child and its signature');
  });
});
