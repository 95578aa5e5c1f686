import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { verifyPlugin } from '@wharf/sdk-testing';
import tagRetentionDefault, { TAG_RETENTION_PLUGIN_VERSION, tagRetentionPlugin } from './index.js';

/** The plugin as the loader sees it. */

const here = path.dirname(fileURLToPath(import.meta.url));

describe('@wharf/plugin-tag-retention', () => {
  it('loads by its config key through the production loader, at the package version', async () => {
    const pkg = JSON.parse(await readFile(path.join(here, '../package.json'), 'utf8')) as { name: string; version: string };
    const verified = await verifyPlugin('tag-retention', { kind: 'extension' });
    assert.equal(verified.packageName, pkg.name, 'extensions.tag-retention resolves to this package');
    assert.equal(verified.version, pkg.version);
    assert.deepEqual([...verified.initDeps].sort(), ['tag-retention.service']);
    assert.equal(tagRetentionDefault, tagRetentionPlugin);
    assert.equal(TAG_RETENTION_PLUGIN_VERSION, pkg.version);
    assert.deepEqual(tagRetentionPlugin.cli?.map((g) => `${g.name}: ${g.commands.map((c) => c.usage.split(' ')[0]).join(',')}`), ['retention: show,set,run,executions']);
  });

  it('refuses a config outside its schema', async () => {
    await assert.rejects(verifyPlugin('tag-retention', { kind: 'extension', config: { maxRules: 0 } }), /maxRules/);
  });
});
