import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pushImage, runCommand, startTestRegistry, tinyImage } from '@wharf/sdk-testing';
import { quotasPlugin } from './index.js';

/**
 * `wharf quota get|set`: the built binary as a child process on the SQLite file of a registry
 * the test filled by pushing (the binary loads the plugin by default).
 */

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../server/bin/wharf.js');
let dir: string;
const image = tinyImage({ text: 'cli quota\n' });
const wharf = (args: string[]) => runCommand(process.execPath, [BIN, ...args, '--config', 'wharf.yaml'], { cwd: dir });

describe('wharf quota', () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-cli-quotas-'));
    const registry = await startTestRegistry({ plugins: [quotasPlugin], dataDir: path.join(dir, 'data') });
    await pushImage(registry.url, 'team/app', 'v1', image);
    await registry.close();
    await writeFile(path.join(dir, 'wharf.yaml'), 'dataDir: ./data\nstorage: { fs: { fsync: false } }\nauth: []\nrbac: {}\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('shows the usage and sets limits', async () => {
    const shown = await wharf(['quota', 'get', 'team', '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    const bytes = image.config.size + image.layers[0]!.size + image.manifest.size;
    assert.deepEqual(JSON.parse(shown.stdout).used, { storage: bytes, count: 1 });
    assert.deepEqual(JSON.parse(shown.stdout).hard, { storage: -1, count: -1, repository_storage: -1 });
    const set = await wharf(['quota', 'set', 'team', '--storage', '10MiB', '--count', '3', '--repository-storage', '2MiB']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout.trim(), 'quota of team: storage 10 MiB, artifacts 3, per repository 2 MiB');
    const table = await wharf(['quota', 'get', 'team']);
    assert.match(table.stdout, /^PROJECT\s+STORAGE USED\s+STORAGE QUOTA\s+ARTIFACTS\s+ARTIFACT QUOTA\n/);
    assert.match(table.stdout, /\nteam\s+\S+ \S+\s+10 MiB\s+1\s+3\s*\n/);
  });

  it('refuses bad input with a one-line refusal', async () => {
    const bad = await wharf(['quota', 'set', 'team', '--storage', 'lots']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error BAD_REQUEST: "lots" is not a size/m);
    const none = await wharf(['quota', 'set', 'team']);
    assert.match(none.stderr, /^error BAD_REQUEST: give --storage, --count and\/or --repository-storage/m);
    const name = await wharf(['quota', 'get', 'Team']);
    assert.match(name.stderr, /^error BAD_REQUEST: "Team" is not a project name/m);
  });
});
