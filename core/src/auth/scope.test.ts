import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatScopes, mergeScopes, parseScope, parseScopes, scopesFor } from './scope.js';

describe('token scope grammar', () => {
  it('parses type:name:actions', () => {
    assert.deepEqual(parseScope('repository:library/alpine:pull,push'), { type: 'repository', name: 'library/alpine', actions: ['pull', 'push'] });
    assert.deepEqual(parseScope('registry:catalog:*'), { type: 'registry', name: 'catalog', actions: ['*'] });
  });

  it('keeps host:port inside the name: the type ends at the first colon, actions start after the last', () => {
    assert.deepEqual(parseScope('repository:localhost:5000/team/app:pull'), { type: 'repository', name: 'localhost:5000/team/app', actions: ['pull'] });
    assert.deepEqual(parseScope('repository:[::1]:5000/app:push'), { type: 'repository', name: '[::1]:5000/app', actions: ['push'] });
  });

  it('ignores the deprecated resource class and drops empty or repeated actions', () => {
    assert.deepEqual(parseScope('repository(plugin):a/b:pull,,pull'), { type: 'repository', name: 'a/b', actions: ['pull'] });
    assert.deepEqual(parseScope('repository:a/b:'), { type: 'repository', name: 'a/b', actions: [] });
  });

  it('refuses what does not follow the grammar', () => {
    for (const bad of ['', 'repository', 'repository:a', ':a:pull', 'repository::pull', 'Repo:a:pull', 'repository:a:PULL', 'repository:a:pu ll', `repository:${'a'.repeat(600)}:pull`]) {
      assert.equal(parseScope(bad), undefined, bad);
    }
  });

  it('reads several scopes, space-separated and repeated, merging the same resource', () => {
    const scopes = parseScopes(['repository:a/b:pull repository:c:push', 'repository:a/b:push,delete', 'junk', '  registry:catalog:*  ']);
    assert.deepEqual(scopes, [
      { type: 'repository', name: 'a/b', actions: ['pull', 'push', 'delete'] },
      { type: 'repository', name: 'c', actions: ['push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
  });

  it('formats scopes for a challenge, leaving out resources without actions', () => {
    const merged = mergeScopes([
      { type: 'repository', name: 'dest', actions: ['push'] },
      { type: 'repository', name: 'src', actions: ['pull'] },
      { type: 'repository', name: 'dest', actions: ['pull'] },
      { type: 'repository', name: 'none', actions: [] },
    ]);
    assert.equal(formatScopes(merged), 'repository:dest:push,pull repository:src:pull');
    assert.deepEqual(parseScopes([formatScopes(merged)]), merged.filter((s) => s.actions.length > 0));
  });

  it('turns a request\'s access questions into the scopes it needs', () => {
    const scopes = scopesFor([
      { resource: { type: 'repository', name: 'dest' }, action: 'push' },
      { resource: { type: 'repository', name: 'src' }, action: 'pull' },
    ]);
    assert.equal(formatScopes(scopes), 'repository:dest:push repository:src:pull');
  });
});
