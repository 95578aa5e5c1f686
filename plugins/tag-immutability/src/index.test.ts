import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { verifyPlugin } from '@wharf/sdk-testing';
import tagImmutabilityDefault, { TAG_IMMUTABILITY_PLUGIN_VERSION, tagImmutabilityPlugin } from './index.js';
import { splitRepository } from './enforcement.js';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('@wharf/plugin-tag-immutability', () => {
  it('loads by its config key through the production loader, at the package version', async () => {
    const pkg = JSON.parse(await readFile(path.join(here, '../package.json'), 'utf8')) as { name: string; version: string };
    const verified = await verifyPlugin('tag-immutability', { kind: 'extension' });
    assert.equal(verified.packageName, pkg.name, 'extensions.tag-immutability resolves to this package');
    assert.equal(verified.version, pkg.version);
    assert.equal(tagImmutabilityDefault, tagImmutabilityPlugin);
    assert.equal(TAG_IMMUTABILITY_PLUGIN_VERSION, pkg.version);
    assert.deepEqual(tagImmutabilityPlugin.cli?.map((g) => `${g.name}: ${g.commands.map((c) => c.usage.split(' ')[0]).join(',')}`), ['immutability: list,add,delete,enable,disable']);
  });

  it('reads the project and the name within it from a repository name', () => {
    assert.deepEqual(splitRepository('team/app/web'), { project: 'team', name: 'app/web' });
    assert.equal(splitRepository('alpine'), undefined);
  });
});
