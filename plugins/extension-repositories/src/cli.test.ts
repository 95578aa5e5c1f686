import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pushImage, runCommand, startTestRegistry, tinyImage, type TestRegistry } from '@wharf/sdk-testing';
import { repositoriesPlugin } from './index.js';

/**
 * `wharf repo list|delete` and `wharf artifact list|delete`: the built binary as a child process
 * on the SQLite file and blob directory of a registry the test filled by pushing. Few runs: each
 * spawns the binary and boots a kernel.
 */

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../server/bin/wharf.js');

let dir: string;
let registry: TestRegistry;
const v1 = tinyImage({ text: 'cli v1\n' });
const v2 = tinyImage({ text: 'cli v2\n' });
const wharf = (args: string[]) => runCommand(process.execPath, [BIN, ...args, '--config', 'wharf.yaml'], { cwd: dir });

describe('wharf repo and artifact', () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-cli-repositories-'));
    // An open registry (no auth, no RBAC) fills the data directory the CLI then reads.
    registry = await startTestRegistry({ plugins: [repositoriesPlugin], dataDir: path.join(dir, 'data') });
    await pushImage(registry.url, 'team/app', 'v1', v1);
    await pushImage(registry.url, 'team/app', 'v2', v2);
    await pushImage(registry.url, 'team/tools/lint', 'latest', tinyImage({ text: 'lint\n' }));
    await registry.close();
    await writeFile(path.join(dir, 'wharf.yaml'), 'dataDir: ./data\nstorage: { fs: { fsync: false } }\nauth: []\nrbac: {}\n');
  });
  after(async () => {
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists repositories as a table and artifacts as JSON', async () => {
    const table = await wharf(['repo', 'list', 'team']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME\s+ARTIFACTS\s+TAGS\s+SIZE\s+UPDATED\n/);
    assert.match(table.stdout, /\nteam\/app\s+2\s+2\s+/);
    const artifacts = await wharf(['artifact', 'list', 'team/app', '--json']);
    assert.equal(artifacts.code, 0, artifacts.stderr);
    assert.deepEqual((JSON.parse(artifacts.stdout) as { digest: string; tags: string[] }[]).map((a) => [a.digest, a.tags]), [[v2.manifest.digest, ['v2']], [v1.manifest.digest, ['v1']]]);
  });

  it('deletes an artifact by tag and a repository; refuses bad names and with a one-line refusal', async () => {
    const byTag = await wharf(['artifact', 'delete', 'team/app:v2']);
    assert.equal(byTag.code, 0, byTag.stderr);
    assert.equal(byTag.stdout.trim(), `artifact team/app@${v2.manifest.digest} deleted`);
    const bad = await wharf(['repo', 'delete', 'Team/App']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error BAD_REQUEST: "Team\/App" is not a repository name/m);
    const deleted = await wharf(['repo', 'delete', 'team/app']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout.trim(), 'repository team/app deleted (1 artifact)');
    const left = await wharf(['repo', 'list', 'team', '--search', 'LINT', '--json']);
    assert.equal(left.code, 0, left.stderr);
    assert.deepEqual((JSON.parse(left.stdout) as { name: string }[]).map((r) => r.name), ['team/tools/lint']);
  });
});
