import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localProject } from './engine.js';
import type { Policy } from './model.js';

/** Which project's webhook policies hear of a replication: `project` of replication.status.changed. */

function policy(mode: 'push' | 'pull', includes: string[], destinationNamespace?: string, kind: 'glob' | 'regex' = 'glob'): Policy {
  return {
    mode,
    destinationNamespace,
    filters: { repositories: includes.map((pattern) => ({ kind, pattern, decision: 'include' as const })), tags: [] },
  } as unknown as Policy;
}

describe('localProject', () => {
  it("names a pull's destination namespace (its first segment)", () => {
    assert.equal(localProject(policy('pull', ['library/*'], 'mirror/hub')), 'mirror');
  });

  it('names the literal first segment every include pattern shares', () => {
    assert.equal(localProject(policy('push', ['library/**'])), 'library');
    assert.equal(localProject(policy('push', ['team/app', 'team/web-*'])), 'team');
    assert.equal(localProject(policy('pull', ['ext/tool'])), 'ext');
  });

  it('names none for a policy that spans projects, has no pattern, a wildcard project or a regex', () => {
    assert.equal(localProject(policy('push', ['a/x', 'b/y'])), undefined);
    assert.equal(localProject(policy('push', [])), undefined);
    assert.equal(localProject(policy('push', ['*/app'])), undefined);
    assert.equal(localProject(policy('push', ['alpine'])), undefined);
    assert.equal(localProject(policy('push', ['^team/.*'], undefined, 'regex')), undefined);
  });
});
