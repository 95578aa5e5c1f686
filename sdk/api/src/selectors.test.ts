import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isApiError } from './management-api.js';
import {
  SELECTOR_PATTERN_MAX_LENGTH,
  compileRepositorySelectors,
  compileTagSelectors,
  globStarDepth,
  regexHazard,
  selectorMatcherOrBadRequest,
  type NameMatcher,
  type RepositorySelector,
  type TagSelector,
} from './selectors.js';

const tag = (pattern: string, decoration: TagSelector['decoration'] = 'matches', kind: TagSelector['kind'] = 'doublestar'): TagSelector => ({ kind, decoration, pattern });
const repo = (pattern: string, decoration: RepositorySelector['decoration'] = 'repoMatches', kind: RepositorySelector['kind'] = 'doublestar'): RepositorySelector => ({ kind, decoration, pattern });

function tagMatcher(selectors: readonly TagSelector[]): NameMatcher {
  const result = compileTagSelectors(selectors);
  if (!result.ok) assert.fail(result.errors.join('; '));
  return result.match;
}

function tagErrors(selectors: readonly unknown[]): readonly string[] {
  const result = compileTagSelectors(selectors as TagSelector[]);
  assert.equal(result.ok, false, 'expected the selectors to be refused');
  return result.ok ? [] : result.errors;
}

describe('doublestar globs (Harbor semantics)', () => {
  const cases: ReadonlyArray<readonly [string, string, boolean]> = [
    ['**', 'team/app/web', true],
    ['*', 'app', true],
    ['*', 'team/app', false],
    ['team/*', 'team/app', true],
    ['team/*', 'team/app/web', false],
    ['team/**', 'team/app/web', true],
    ['{team,ops}/**', 'ops/tool', true],
    ['{team,ops}/**', 'dev/tool', false],
    ['v?.*', 'v1.2', true],
    ['v?.*', 'v10.2', false],
    ['[0-9]*', '1.0', true],
    ['[0-9]*', 'latest', false],
    ['.hidden*', '.hidden-tag', true],
    ['release-{1,2}.*', 'release-2.0', true],
    ['release-{1,2}.*', 'release-3.0', false],
  ];
  for (const [pattern, name, expected] of cases) {
    it(`${pattern} ${expected ? 'selects' : 'leaves out'} ${name}`, () => {
      const result = compileRepositorySelectors([repo(pattern)]);
      assert.ok(result.ok);
      assert.equal(result.ok && result.match(name), expected);
    });
  }

  it('does not treat ! as negation or +(…) as an extglob', () => {
    assert.equal(tagMatcher([tag('!latest')])('!latest'), true);
    assert.equal(tagMatcher([tag('!latest')])('v1'), false);
  });
});

describe('regular expressions', () => {
  it('are anchored at both ends', () => {
    const m = tagMatcher([tag('v[0-9]+', 'matches', 'regex')]);
    assert.equal(m('v12'), true);
    assert.equal(m('xv12'), false);
    assert.equal(m('v12-rc'), false);
  });

  it('accept ordinary semantic-version patterns', () => {
    const m = tagMatcher([tag('(v|release-)?[0-9]+\\.[0-9]+\\.[0-9]+', 'matches', 'regex')]);
    assert.equal(m('1.2.3'), true);
    assert.equal(m('release-1.2.3'), true);
    assert.equal(m('1.2'), false);
  });
});

describe('matches and excludes', () => {
  it('select a name that one matches selector matches and no excludes selector does', () => {
    const m = tagMatcher([tag('v*'), tag('release-*'), tag('*-rc*', 'excludes')]);
    assert.equal(m('v1'), true);
    assert.equal(m('release-2'), true);
    assert.equal(m('v1-rc1'), false);
    assert.equal(m('latest'), false);
  });

  it('with only excludes selectors select everything else', () => {
    const m = tagMatcher([tag('latest', 'excludes')]);
    assert.equal(m('v1'), true);
    assert.equal(m('latest'), false);
  });

  it('repository decorations are repoMatches and repoExcludes', () => {
    const result = compileRepositorySelectors([repo('**'), repo('tmp/**', 'repoExcludes')]);
    assert.ok(result.ok);
    assert.equal(result.ok && result.match('team/app'), true);
    assert.equal(result.ok && result.match('tmp/x'), false);
    const wrong = compileRepositorySelectors([{ kind: 'doublestar', decoration: 'matches', pattern: '**' } as unknown as RepositorySelector]);
    assert.deepEqual(wrong.ok ? [] : wrong.errors, ["repositories[0].decoration: must be 'repoMatches' or 'repoExcludes'"]);
  });
});

describe('bad patterns are refused with a clear message', () => {
  it('reports an unclosed glob bracket with its path', () => {
    const errors = tagErrors([tag('v*'), tag('v{1,2')]);
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /^tags\[1\]\.pattern: invalid glob "v\{1,2": /);
  });

  it('reports an invalid regular expression', () => {
    assert.match(tagErrors([tag('v(1', 'matches', 'regex')])[0] ?? '', /^tags\[0\]\.pattern: invalid regular expression "v\(1": /);
  });

  it('reports every problem at once, and bad kinds and shapes', () => {
    const errors = tagErrors([{ kind: 'wild', decoration: 'matches', pattern: 'x' }, null, tag(''), tag('x'.repeat(SELECTOR_PATTERN_MAX_LENGTH + 1))]);
    assert.deepEqual(errors, [
      "tags[0].kind: must be 'doublestar' or 'regex'",
      'tags[1]: must be an object',
      'tags[2].pattern: must be a non-empty string',
      `tags[3].pattern: longer than ${SELECTOR_PATTERN_MAX_LENGTH} characters`,
    ]);
  });

  it('refuses a list that is not an array', () => {
    assert.deepEqual(tagErrors({} as unknown as unknown[]), ['tags: must be an array']);
  });

  it('selectorMatcherOrBadRequest throws a BAD_REQUEST ApiError naming the problem', () => {
    assert.throws(
      () => selectorMatcherOrBadRequest(compileTagSelectors([tag('[a', 'matches', 'doublestar')])),
      (err: unknown) => isApiError(err) && err.code === 'BAD_REQUEST' && err.status === 400 && /tags\[0\]\.pattern: invalid glob/.test(err.message),
    );
    assert.equal(selectorMatcherOrBadRequest(compileTagSelectors([tag('v*')]))('v2'), true);
  });
});

describe('backtracking guards', () => {
  it('counts * runs along the longest path through alternatives', () => {
    assert.equal(globStarDepth('**'), 1);
    assert.equal(globStarDepth('**/*-*'), 3);
    assert.equal(globStarDepth('{release-*,hotfix-*,v*}'), 1);
    assert.equal(globStarDepth('{a*b*,c}*'), 3);
    assert.equal(globStarDepth('\\*[*]x'), 0);
  });

  it('refuses globs that chain too many stars', () => {
    assert.match(tagErrors([tag('*a*a*a*b')])[0] ?? '', /more than 3 '\*' wildcards/);
    assert.equal(tagMatcher([tag('{release-*,hotfix-*,feature-*}')])('hotfix-2'), true);
  });

  it('refuses nested repetition, backreferences and long chains of repetition in regexes', () => {
    assert.match(regexHazard('(a+)+b') ?? '', /nested repetition/);
    assert.match(regexHazard('(a|ab)*c') ?? '', /nested repetition/);
    assert.match(regexHazard('((a)+x)*') ?? '', /nested repetition/);
    assert.match(regexHazard('(a+){2,5}') ?? '', /nested repetition/);
    assert.match(regexHazard('(a)\\1') ?? '', /backreferences/);
    assert.match(regexHazard('.*.*.*.*.*x') ?? '', /more than 4 unbounded/);
    assert.equal(regexHazard('(v|release-)?[0-9]+\\.[0-9]+\\.[0-9]+'), undefined);
    assert.equal(regexHazard('(ab)+c'), undefined);
    assert.equal(regexHazard('[(+*]+x{1,3}'), undefined);
    assert.match(tagErrors([tag('(a+)+', 'matches', 'regex')])[0] ?? '', /^tags\[0\]\.pattern: regular expression "\(a\+\)\+" refused: nested repetition/);
  });

  it('an accepted worst-case glob matches a hostile 128-character tag quickly', () => {
    const m = tagMatcher([tag('*a*a*b')]);
    const hostile = 'a'.repeat(128);
    const started = process.hrtime.bigint();
    assert.equal(m(hostile), false);
    // A bound, not a benchmark: the unguarded five-star form takes about a minute.
    assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 2000);
  });
});
