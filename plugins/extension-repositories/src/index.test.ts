import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ApiError } from '@wharf/sdk';
import { verifyPlugin } from '@wharf/sdk-testing';
import repositoriesDefault, { REPOSITORIES_PLUGIN_VERSION, parseArtifactAddress, parseReference, repositoriesPlugin, repositoryOf } from './index.js';

/** The plugin as the loader sees it, and the parsing of names from paths and arguments. */

const here = path.dirname(fileURLToPath(import.meta.url));

describe('@wharf/plugin-extension-repositories', () => {
  it('loads by its config key through the production loader, at the package version', async () => {
    const pkg = JSON.parse(await readFile(path.join(here, '../package.json'), 'utf8')) as { name: string; version: string };
    const verified = await verifyPlugin('repositories', { kind: 'extension' });
    assert.equal(verified.packageName, pkg.name, 'extensions.repositories resolves to this package');
    assert.equal(verified.version, pkg.version);
    assert.deepEqual([...verified.initDeps].sort(), ['core.artifacts', 'core.content']);
    assert.equal(repositoriesDefault, repositoriesPlugin);
    assert.equal(REPOSITORIES_PLUGIN_VERSION, pkg.version);
    assert.deepEqual(repositoriesPlugin.cli?.map((g) => `${g.name}: ${g.commands.map((c) => c.usage.split(' ')[0]).join(',')}`), ['repo: list,delete', 'artifact: list,delete']);
  });

  it('reads repository names from paths, encoded once or twice', () => {
    assert.equal(repositoryOf('team', 'app'), 'team/app');
    assert.equal(repositoryOf('team', 'app/web'), 'team/app/web');
    assert.equal(repositoryOf('team', 'app%2Fweb'), 'team/app/web');
    for (const bad of ['App', 'a//b', '%E0%A4%A', 'a%2F', '-a', 'x'.repeat(256)]) assert.throws(() => repositoryOf('team', bad), (e: unknown) => e instanceof ApiError && e.code === 'BAD_REQUEST', bad);
  });

  it('parses references and artifact addresses; anything else is a 400', () => {
    assert.deepEqual(parseReference('v1.0'), { kind: 'tag', tag: 'v1.0' });
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(parseReference(digest), { kind: 'digest', digest });
    assert.deepEqual(parseArtifactAddress(`team/app@${digest}`), { repository: 'team/app', reference: { kind: 'digest', digest } });
    assert.deepEqual(parseArtifactAddress('team/a/b:v1'), { repository: 'team/a/b', reference: { kind: 'tag', tag: 'v1' } });
    assert.deepEqual(parseArtifactAddress('team/app@v1'), { repository: 'team/app', reference: { kind: 'tag', tag: 'v1' } });
    for (const bad of ['team/app', 'app:v1', 'team/App:v1', 'team/app:-x', 'team/app@sha256:zz', 'team/app@', ':v1']) {
      assert.throws(() => parseArtifactAddress(bad), (e: unknown) => e instanceof ApiError && e.code === 'BAD_REQUEST', bad);
    }
    for (const bad of ['', '.x', 'a b', 'md5:abc', `sha256:${'A'.repeat(64)}`]) assert.throws(() => parseReference(bad), ApiError, bad);
  });
});
