import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccessRequest } from '@wharf/sdk';
import { startTestPlugin } from '@wharf/sdk-testing';
import { projectsServiceRef, rbacProjectsPlugin } from './index.js';
import { user } from './test-support.js';

/** The plugin on mocked kernel services (a real SQLite file, a given repository list), no kernel booted. */

const pull = (name: string): AccessRequest => ({ resource: { type: 'repository', name }, action: 'pull' });
const push = (name: string): AccessRequest => ({ resource: { type: 'repository', name }, action: 'push' });
const anonymous = { subject: 'anonymous', kind: 'anonymous', provider: 'kernel', groups: [], admin: false } as const;

describe('rbac-projects without a kernel (startTestPlugin)', () => {
  it('creates the default public project at ready and answers rbac.authorize from it', async () => {
    const plugin = await startTestPlugin(rbacProjectsPlugin, { config: { defaultProject: 'library' } });
    try {
      const { projects } = plugin.get(projectsServiceRef);
      assert.equal((await projects.get('library'))?.public, true);
      assert.ok(plugin.logs.records().some((r) => r['msg'] === 'created the default public project' && r['project'] === 'library'));
      assert.deepEqual(await plugin.hooks.rbac.authorize.promise(anonymous, pull('library/app')), { allow: true });
      assert.equal((await plugin.hooks.rbac.authorize.promise(user('alice'), push('library/app')))?.allow, false);
      await projects.create('team', { owner: 'alice' });
      assert.deepEqual(await plugin.hooks.rbac.authorize.promise(user('alice'), push('team/app')), { allow: true });
      assert.equal((await plugin.hooks.rbac.authorize.promise(user('bob'), pull('team/app')))?.allow, false);
    } finally {
      await plugin.close();
    }
  });

  it('counts a project\'s repositories through coreServices.repositories', async () => {
    const plugin = await startTestPlugin(rbacProjectsPlugin, { repositories: ['team/app', 'team/tools/lint', 'teams/other', 'library/busybox'] });
    try {
      const service = plugin.get(projectsServiceRef);
      assert.equal(await service.repositoryCount('team'), 2);
      assert.equal(await service.repositoryCount('empty'), 0);
      assert.ok(plugin.operations.length > 5, `the projects API operations: ${plugin.operations.join(', ')}`);
    } finally {
      await plugin.close();
    }
  });
});
