import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DestinationNameError,
  destinationRepository,
  flattenFromReplaceCount,
  flattenToReplaceCount,
  type Flatten,
  type PathComponents,
} from './flatten.js';

// [source, namespace, flatten, expected destination or an error pattern]
type Row = readonly [string, string | undefined, Flatten, string | RegExp];

const rows: readonly Row[] = [
  // The brief's and Harbor's docs examples.
  ['a/b/c/img', 'ns', 'none', 'ns/a/b/c/img'],
  ['a/b/c/img', 'ns', 1, 'ns/b/c/img'],
  ['a/b/c/img', 'ns', 2, 'ns/c/img'],
  ['a/b/c/img', 'ns', 3, 'ns/img'],
  ['a/b/c/img', 'ns', 'all', 'ns/img'],
  ['a/b/c/d/img', 'ns', 3, 'ns/d/img'],
  // Harbor's own unit test cases (stage_test.go TestReplaceNamespace).
  ['c', 'n', 'all', 'n/c'],
  ['b/c', 'n', 'all', 'n/c'],
  ['a/b', 'n', 2, /only 1 level/],
  ['a/b/c', 'n', 'none', 'n/a/b/c'],
  ['a', 'n', 'none', 'n/a'],
  // Removing more levels than exist is an error, not a silent "all".
  ['img', 'ns', 1, /only 0 level/],
  ['a/img', 'ns', 1, 'ns/img'],
  ['a/img', 'ns', 3, /cannot flatten 3 level/],
  // A namespace may have several levels; stray slashes are dropped like path.Join does.
  ['a/b/img', 'team/mirror', 1, 'team/mirror/b/img'],
  ['a/b/img', '/ns/', 'all', 'ns/img'],
  // No namespace: Harbor keeps the source name whatever the flattening.
  ['a/b/c/img', undefined, 'none', 'a/b/c/img'],
  ['a/b/c/img', undefined, 1, 'a/b/c/img'],
  ['a/b/c/img', undefined, 3, 'a/b/c/img'],
  ['a/b/c/img', '', 'all', 'a/b/c/img'],
  ['img', undefined, 3, 'img'],
  // The result must be a valid repository name.
  ['a/img', 'Upper', 1, /not a valid repository name/],
  ['a/img', 'bad ns', 'none', /not a valid repository name/],
  ['Team/img', 'ns', 1, 'ns/img'],
  ['Team/img', undefined, 1, /not a valid repository name/],
  ['a/' + 'x'.repeat(252), 'ns', 'none', /not a valid repository name/],
];

describe('destinationRepository', () => {
  for (const [source, namespace, flatten, expected] of rows) {
    it(`${source} ns=${String(namespace)} flatten=${flatten} → ${String(expected)}`, () => {
      if (typeof expected === 'string') {
        assert.equal(destinationRepository(source, { namespace, flatten }), expected);
      } else {
        assert.throws(() => destinationRepository(source, { namespace, flatten }), (err: unknown) => {
          assert.ok(err instanceof DestinationNameError);
          assert.match(err.message, expected);
          return true;
        });
      }
    });
  }

  it("checks the destination registry's path shape", () => {
    const shaped = (source: string, flatten: Flatten, pathComponents: PathComponents): string =>
      destinationRepository(source, { namespace: 'ns', flatten, pathComponents });
    assert.equal(shaped('a/b/img', 'all', 'onlyTwo'), 'ns/img');
    assert.throws(() => shaped('a/b/img', 1, 'onlyTwo'), /only supports 2/);
    assert.equal(shaped('a/b/img', 1, 'atLeastTwo'), 'ns/b/img');
    assert.throws(() => destinationRepository('img', { flatten: 'none', pathComponents: 'atLeastTwo' }), /at least 2/);
  });

  it('rejects flattening values that are not in the type (policies come from JSON)', () => {
    const flatten = JSON.parse('4') as Flatten;
    assert.throws(() => destinationRepository('a/b', { namespace: 'ns', flatten }), /unsupported flattening 4/);
  });
});

describe("Harbor's dest_namespace_replace_count", () => {
  it('maps both ways', () => {
    const pairs: ReadonlyArray<readonly [number, Flatten]> = [[-1, 'all'], [0, 'none'], [1, 1], [2, 2], [3, 3]];
    for (const [count, flatten] of pairs) {
      assert.equal(flattenFromReplaceCount(count), flatten);
      assert.equal(flattenToReplaceCount(flatten), count);
    }
    assert.throws(() => flattenFromReplaceCount(4), DestinationNameError);
  });
});
