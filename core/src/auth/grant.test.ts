import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccessRequest, Principal } from '@wharf/sdk';
import { createHooks } from '../hooks/index.js';
import { covers, grantScopes } from './grant.js';

const user = (subject: string, admin = false): Principal => ({ subject, kind: 'user', provider: 'test', groups: [], admin });

/** RBAC: alice may do anything on alice/*, everyone may pull public/*. */
function hooksWithRbac() {
  const hooks = createHooks();
  const asked: string[] = [];
  hooks.rbac.authorize.tapPromise('rules', async (p, access) => {
    asked.push(`${p.subject}:${access.resource.name}:${access.action}`);
    if (access.resource.name.startsWith(`${p.subject}/`)) return { allow: true };
    if (access.resource.name.startsWith('public/') && access.action === 'pull') return { allow: true };
    return { allow: false };
  });
  return { hooks, asked };
}

describe('granting scopes', () => {
  it('grants the intersection of what was asked and what RBAC allows; a partial grant is fine', async () => {
    const { hooks } = hooksWithRbac();
    const granted = await grantScopes(hooks.rbac, user('alice'), [
      { type: 'repository', name: 'public/app', actions: ['pull', 'push'] },
      { type: 'repository', name: 'alice/app', actions: ['pull', 'push', 'delete'] },
      { type: 'repository', name: 'bob/app', actions: ['pull'] },
    ]);
    assert.deepEqual(granted, [
      { type: 'repository', name: 'public/app', actions: ['pull'] },
      { type: 'repository', name: 'alice/app', actions: ['pull', 'push', 'delete'] },
    ]);
  });

  it('grants * only when every repository action is allowed, else the allowed ones', async () => {
    const { hooks } = hooksWithRbac();
    assert.deepEqual(await grantScopes(hooks.rbac, user('alice'), [{ type: 'repository', name: 'alice/x', actions: ['*'] }]), [
      { type: 'repository', name: 'alice/x', actions: ['*'] },
    ]);
    assert.deepEqual(await grantScopes(hooks.rbac, user('alice'), [{ type: 'repository', name: 'public/x', actions: ['*'] }]), [
      { type: 'repository', name: 'public/x', actions: ['pull'] },
    ]);
  });

  it('drops unknown types, unknown actions and invalid names without asking RBAC', async () => {
    const { hooks, asked } = hooksWithRbac();
    const granted = await grantScopes(hooks.rbac, user('alice'), [
      { type: 'plugin', name: 'alice/x', actions: ['pull'] },
      { type: 'repository', name: 'alice/x', actions: ['pull', 'fly'] },
      { type: 'repository', name: 'localhost:5000/alice/x', actions: ['pull'] },
      { type: 'registry', name: 'other', actions: ['*'] },
    ]);
    assert.deepEqual(granted, [{ type: 'repository', name: 'alice/x', actions: ['pull'] }]);
    assert.deepEqual(asked, ['alice:alice/x:pull']);
  });

  it('gives the catalog to system administrators only, whatever RBAC says', async () => {
    const hooks = createHooks();
    hooks.rbac.authorize.tapPromise('allow-all', async () => ({ allow: true }));
    const catalog = [{ type: 'registry', name: 'catalog', actions: ['*'] }];
    assert.deepEqual(await grantScopes(hooks.rbac, user('root', true), catalog), catalog);
    assert.deepEqual(await grantScopes(hooks.rbac, user('alice'), catalog), []);
  });

  it('grants every repository action asked when no RBAC tap is loaded (open registry)', async () => {
    const hooks = createHooks();
    const granted = await grantScopes(hooks.rbac, user('anyone'), [
      { type: 'repository', name: 'a/b', actions: ['pull', 'push', 'delete'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    assert.deepEqual(granted, [{ type: 'repository', name: 'a/b', actions: ['pull', 'push', 'delete'] }]);
  });

  it('checks that an access claim covers a request', () => {
    const access = [
      { type: 'repository', name: 'a/b', actions: ['pull'] },
      { type: 'repository', name: 'c', actions: ['*'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ];
    const q = (type: 'repository' | 'registry', name: string, action: string) => ({ resource: { type, name }, action }) as AccessRequest;
    assert.equal(covers(access, q('repository', 'a/b', 'pull')), true);
    assert.equal(covers(access, q('repository', 'a/b', 'push')), false);
    assert.equal(covers(access, q('repository', 'a/bc', 'pull')), false);
    assert.equal(covers(access, q('repository', 'c', 'delete')), true);
    assert.equal(covers(access, q('registry', 'catalog', '*')), true);
    assert.equal(covers([{ type: 'registry', name: 'catalog', actions: ['pull'] }], q('registry', 'catalog', '*')), false);
  });
});
