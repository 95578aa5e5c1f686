import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { verifyPlugin } from '@wharf/sdk-testing';
import quotasDefault, { QUOTAS_PLUGIN_VERSION, formatSize, parseSize, quotasPlugin } from './index.js';
import { refusalMessage } from './quota-service.js';

/** The plugin as the loader sees it, sizes as operators write them, and the refusal's words. */

const here = path.dirname(fileURLToPath(import.meta.url));

describe('@wharf/plugin-quotas', () => {
  it('loads by its config key through the production loader, at the package version', async () => {
    const pkg = JSON.parse(await readFile(path.join(here, '../package.json'), 'utf8')) as { name: string; version: string };
    const verified = await verifyPlugin('quotas', { kind: 'extension', config: { defaults: { storage: '10GiB', count: 100 } } });
    assert.equal(verified.packageName, pkg.name, 'extensions.quotas resolves to this package');
    assert.equal(verified.version, pkg.version);
    assert.equal(quotasDefault, quotasPlugin);
    assert.equal(QUOTAS_PLUGIN_VERSION, pkg.version);
    assert.deepEqual(quotasPlugin.cli?.map((g) => `${g.name}: ${g.commands.map((c) => c.usage.split(' ')[0]).join(',')}`), ['quota: get,set']);
  });

  it('reads sizes with binary and decimal units, and -1 for unlimited', () => {
    assert.equal(parseSize('10GiB'), 10 * 1024 ** 3);
    assert.equal(parseSize('500MB'), 500_000_000);
    assert.equal(parseSize('1.5 KiB'), 1536);
    assert.equal(parseSize('1024'), 1024);
    assert.equal(parseSize(-1), -1);
    assert.equal(parseSize('-1'), -1);
    for (const bad of ['lots', '-2', '10 parsecs', '-1GiB', '', '99999999999 PiB']) assert.throws(() => parseSize(bad), RangeError, bad);
    assert.throws(() => parseSize(1.5), RangeError);
    assert.equal(formatSize(9.5 * 1024 * 1024), '9.5 MiB');
    assert.equal(formatSize(512), '512 B');
    assert.equal(formatSize(-1), 'unlimited');
  });

  it('names the quota, the usage and the push in a refusal', () => {
    const MiB = 1024 * 1024;
    assert.equal(refusalMessage('library', { resource: 'storage', used: 9.5 * MiB, limit: 10 * MiB, adding: 2 * MiB }, 'blob'), 'project library storage quota 10 MiB exceeded: in use 9.5 MiB, this blob 2 MiB');
    assert.equal(refusalMessage('library', { resource: 'storage', used: 9.5 * MiB, limit: 10 * MiB, adding: MiB }, 'manifest'), 'project library storage quota 10 MiB exceeded: in use 9.5 MiB, this manifest adds 1 MiB');
    assert.equal(refusalMessage('library', { resource: 'count', used: 10, limit: 10, adding: 1 }, 'manifest'), 'project library artifact count quota 10 exceeded: in use 10, this push 1 more');
    assert.equal(refusalMessage('library', { resource: 'repositoryStorage', used: MiB, limit: MiB, adding: 512 }, 'blob', 'library/app'), 'repository library/app storage quota 1 MiB exceeded: in use 1 MiB, this blob 512 B');
  });
});
