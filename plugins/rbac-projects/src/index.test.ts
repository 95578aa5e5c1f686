import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isWharfPlugin } from '@wharf/sdk';
import { configProblems, loadTestConfig, verifyPlugin } from '@wharf/sdk-testing';
import rbacDefault, { RBAC_PLUGIN_VERSION, rbacProjectsPlugin } from './index.js';

/** The plugin as the loader sees it: exports, version, and its config section's defaults and checks. */

const here = path.dirname(fileURLToPath(import.meta.url));

function load(section: Record<string, unknown>) {
  return loadTestConfig({ config: { rbac: { projects: section } }, plugins: [rbacProjectsPlugin] });
}

describe('@wharf/plugin-rbac-projects', () => {
  it('loads through the production loader, exported as default and as rbacProjectsPlugin, at the package version', async () => {
    const pkg = JSON.parse(await readFile(path.join(here, '../package.json'), 'utf8')) as { name: string; version: string };
    assert.equal(pkg.name, '@wharf/plugin-rbac-projects');
    const verified = await verifyPlugin('projects', { kind: 'rbac' });
    assert.deepEqual({ ...verified, config: undefined, taps: [...verified.taps].sort() }, {
      id: 'projects',
      kind: 'rbac',
      version: pkg.version,
      kernel: '^0.1.0',
      packageName: pkg.name,
      // Its taps need the projects service: they are made in its init, which verification never runs.
      taps: [],
      services: ['rbac-projects.service', 'rbac-projects.projects', 'rbac-projects.robots', 'projects.provisioning', 'projects.directory'],
      initDeps: ['rbac-projects.service'],
      migrations: true,
      routes: false,
      config: undefined,
    });
    assert.equal(rbacDefault, rbacProjectsPlugin);
    assert.ok(isWharfPlugin(rbacProjectsPlugin));
    assert.equal(RBAC_PLUGIN_VERSION, pkg.version);
  });

  it("defaults to Harbor's settings", async () => {
    const loaded = await load({});
    const section = loaded.plugins.find((p) => p.plugin.id === 'projects')?.config;
    assert.deepEqual(section, { creation: 'everyone', autoCreate: false, defaultProject: 'library', robotPrefix: 'robot$', robotDefaultDays: 30, decisionCacheSeconds: 5 });
  });

  it('refuses bad settings, naming the key', async () => {
    for (const [section, key] of [
      [{ creation: 'nobody' }, 'creation'],
      [{ defaultProject: 'Library' }, 'defaultProject'],
      [{ robotPrefix: 'robot:' }, 'robotPrefix'],
      [{ robotDefaultDays: 0.5 }, 'robotDefaultDays'],
      [{ robotDefaultDays: -2 }, 'robotDefaultDays'],
      [{ robotDefaultDays: 0 }, 'robotDefaultDays'],
      [{ surprise: true }, 'surprise'],
    ] as const) {
      await assert.rejects(load(section), (err: unknown) => {
        const problems = configProblems(err);
        assert.ok(problems.some((p) => JSON.stringify(p).includes(key)), `${key}: ${JSON.stringify(problems)}`);
        return true;
      });
    }
    assert.ok(await load({ defaultProject: null, robotDefaultDays: -1, creation: 'adminonly' }));
  });
});
