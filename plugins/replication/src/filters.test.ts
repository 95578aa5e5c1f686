import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PATTERN_LENGTH, compileFilter, compileSourceFilters, type FilterPattern, type NameMatcher } from './filters.js';

const glob = (pattern: string, decision: FilterPattern['decision'] = 'include'): FilterPattern => ({ kind: 'glob', pattern, decision });
const regex = (pattern: string, decision: FilterPattern['decision'] = 'include'): FilterPattern => ({ kind: 'regex', pattern, decision });

function matcher(patterns: readonly FilterPattern[]): NameMatcher {
  const result = compileFilter(patterns, 'filters.tags');
  if (!result.ok) assert.fail(result.errors.join('; '));
  return result.value;
}

function errorsOf(patterns: readonly FilterPattern[]): readonly string[] {
  const result = compileFilter(patterns, 'filters.tags');
  assert.equal(result.ok, false);
  return result.ok ? [] : result.errors;
}

describe('glob patterns (Harbor doublestar)', () => {
  // [pattern, name, matches]; the first rows are the table in Harbor's replication docs.
  const cases: ReadonlyArray<readonly [string, string, boolean]> = [
    ['library/*', 'library/hello-world', true],
    ['library/*', 'library/my/hello-world', false],
    ['library/**', 'library/hello-world', true],
    ['library/**', 'library/my/hello-world', true],
    ['{library,goharbor}/**', 'library/hello-world', true],
    ['{library,goharbor}/**', 'goharbor/harbor-core', true],
    ['{library,goharbor}/**', 'google/hello-world', false],
    ['1.?', '1.0', true],
    ['1.?', '1.01', false],
    ['?', '/', false],
    ['*', 'a/b', false],
    ['**', 'a/b/c', true],
    ['a/**/z', 'a/b/c/z', true],
    ['v1.*', 'v1.2.3', true],
    ['*.*', 'a.b', true],
    ['*', '.hidden', true],
    ['*/.x', 'a/.x', true],
    ['1.0', '1x0', false],
    ['[a-c]x', 'bx', true],
    ['[a-c]x', 'dx', false],
    ['!abc', '!abc', true],
    ['!abc', 'xyz', false],
    ['latest', 'latest-1', false],
  ];
  for (const [pattern, name, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${name}`, () => {
      assert.equal(matcher([glob(pattern)])(name), expected);
    });
  }
});

describe('regular expressions', () => {
  it('match the whole name', () => {
    const m = matcher([regex('v[0-9]+')]);
    assert.equal(m('v12'), true);
    assert.equal(m('xv12'), false);
    assert.equal(m('v12-rc'), false);
  });
  it('keep alternation inside the anchors', () => {
    const m = matcher([regex('a|b')]);
    assert.equal(m('a'), true);
    assert.equal(m('ab'), false);
    assert.equal(m('xb'), false);
  });
});

describe('include and exclude', () => {
  it('passes everything without patterns', () => {
    assert.equal(matcher([])('anything/at/all'), true);
  });
  it('needs one include to match when there are includes', () => {
    const m = matcher([glob('v1.*'), regex('release-.+')]);
    assert.equal(m('v1.2'), true);
    assert.equal(m('release-3'), true);
    assert.equal(m('v2.0'), false);
  });
  it('lets an exclude win over an include', () => {
    const m = matcher([glob('v1.*'), glob('*-rc*', 'exclude')]);
    assert.equal(m('v1.2'), true);
    assert.equal(m('v1.2-rc1'), false);
  });
  it('passes what no exclude matches when there are only excludes', () => {
    const m = matcher([glob('**/cache', 'exclude'), regex('tmp-.*', 'exclude')]);
    assert.equal(m('team/app'), true);
    assert.equal(m('team/cache'), false);
    assert.equal(m('tmp-1'), false);
  });
});

describe('validation', () => {
  it('reports an invalid regular expression with its path', () => {
    const errors = errorsOf([glob('ok'), regex('(unclosed')]);
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /^filters\.tags\[1\]: invalid regular expression: /);
  });
  it('reports an unclosed glob bracket or brace', () => {
    const errors = errorsOf([glob('[abc'), glob('{a,b')]);
    assert.match(errors[0] ?? '', /^filters\.tags\[0\]: invalid glob: /);
    assert.match(errors[1] ?? '', /^filters\.tags\[1\]: invalid glob: /);
  });
  it('caps the pattern length', () => {
    assert.ok(compileFilter([glob('a'.repeat(MAX_PATTERN_LENGTH))], 'f').ok);
    assert.deepEqual(errorsOf([glob('a'.repeat(MAX_PATTERN_LENGTH + 1))]), [`filters.tags[0].pattern: longer than ${MAX_PATTERN_LENGTH} characters`]);
  });
  it('rejects empty patterns and unknown kinds or decisions from JSON', () => {
    const bad = JSON.parse('[{"kind":"glob","pattern":"","decision":"include"},{"kind":"re","pattern":"a","decision":"include"},{"kind":"glob","pattern":"a","decision":"maybe"},null]') as FilterPattern[];
    assert.deepEqual(errorsOf(bad), [
      'filters.tags[0].pattern: must be a non-empty string',
      "filters.tags[1].kind: must be 'glob' or 'regex'",
      "filters.tags[2].decision: must be 'include' or 'exclude'",
      'filters.tags[3]: must be an object',
    ]);
  });
  it('compiles both policy filters and collects every error', () => {
    const ok = compileSourceFilters({ repositories: [glob('library/**')], tags: [glob('*-rc*', 'exclude')] });
    assert.ok(ok.ok);
    assert.equal(ok.value.repository('library/nginx'), true);
    assert.equal(ok.value.repository('other/nginx'), false);
    assert.equal(ok.value.tag('1.0-rc1'), false);

    const bad = compileSourceFilters({ repositories: [regex('[')], tags: [glob('ok'), regex('(')] });
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.deepEqual(bad.errors.map((e) => e.split(':')[0]), ['filters.repositories[0]', 'filters.tags[1]']);
  });
});
