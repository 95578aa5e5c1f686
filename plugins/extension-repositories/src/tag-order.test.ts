import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareTags } from './tag-order.js';

describe('compareTags', () => {
  it('sorts semantic versions by value, pre-releases before their release', () => {
    const tags = ['v1.10', 'latest', 'v1.9', 'v1.9.1', 'v2.0.0-rc.2', 'v2.0.0', 'v2.0.0-rc.10', 'v1.2', '1.1.0'];
    assert.deepEqual([...tags].sort(compareTags), ['1.1.0', 'v1.2', 'v1.9', 'v1.9.1', 'v1.10', 'v2.0.0-rc.2', 'v2.0.0-rc.10', 'v2.0.0', 'latest']);
  });
  it('compares other tags by runs, numbers by value, and is total', () => {
    assert.deepEqual(['build-10', 'build-9', 'build-9a', 'alpha'].sort(compareTags), ['alpha', 'build-9', 'build-9a', 'build-10']);
    assert.ok(compareTags('v1', '1.0.0') !== 0, 'equal versions still have an order');
    assert.equal(compareTags('v1', '1.0.0'), -compareTags('1.0.0', 'v1'));
  });
});
