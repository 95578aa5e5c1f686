import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { repositoriesPlugin } from '@wharf/plugin-extension-repositories';
import { pushImage, runCommand, startTestRegistry, tinyImage, type TestRegistry } from '@wharf/sdk-testing';
import { tagImmutabilityPlugin } from './index.js';

/**
 * `wharf immutability list|add|delete|enable|disable`: the built binary (where the plugin is
 * loaded by default) as a child process on the SQLite file of a registry the test filled, and
 * the rules it adds refusing `wharf artifact delete` and `wharf repo delete`. Few runs: each
 * spawns the binary and boots a kernel.
 */

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../server/bin/wharf.js');

let dir: string;
let registry: TestRegistry | undefined;
const v1 = tinyImage({ text: 'immutability cli v1\n' });
const wharf = (args: string[]) => runCommand(process.execPath, [BIN, ...args, '--config', 'wharf.yaml'], { cwd: dir });

describe('wharf immutability', () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-cli-immutability-'));
    registry = await startTestRegistry({ plugins: [repositoriesPlugin, tagImmutabilityPlugin], dataDir: path.join(dir, 'data') });
    await pushImage(registry.url, 'team/app', 'v1', v1);
    await registry.close();
    registry = undefined;
    await writeFile(path.join(dir, 'wharf.yaml'), 'dataDir: ./data\nstorage: { fs: { fsync: false } }\nauth: []\nrbac: {}\n');
  });
  after(async () => {
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('adds and lists a rule, which then refuses artifact and repository deletes', async () => {
    const added = await wharf(['immutability', 'add', 'team', '--tags', 'v*', '--exclude-tags', 'v*-dev']);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout.trim(), /^immutability rule (\d+) added to project team$/);
    const listed = await wharf(['immutability', 'list', 'team', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const [rule] = JSON.parse(listed.stdout) as { id: number; enabled: boolean; repositories: unknown[]; tags: { decoration: string; pattern: string }[] }[];
    assert.ok(rule);
    assert.equal(rule.enabled, true);
    assert.deepEqual(rule.repositories, [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }]);
    assert.deepEqual(rule.tags.map((t) => `${t.decoration} ${t.pattern}`), ['matches v*', 'excludes v*-dev']);
    const refusedArtifact = await wharf(['artifact', 'delete', 'team/app:v1']);
    assert.equal(refusedArtifact.code, 1);
    assert.match(refusedArtifact.stderr, new RegExp(`^error DENIED: artifact team/app@${v1.manifest.digest} holds the immutable tag v1 \\(immutability rule ${rule.id} of project team\\)`, 'm'));
    const refusedRepo = await wharf(['repo', 'delete', 'team/app']);
    assert.equal(refusedRepo.code, 1);
    assert.match(refusedRepo.stderr, /^error DENIED: .*immutable tag v1/m);

    const disabled = await wharf(['immutability', 'disable', 'team', String(rule.id)]);
    assert.equal(disabled.code, 0, disabled.stderr);
    const table = await wharf(['immutability', 'list', 'team']);
    assert.match(table.stdout, new RegExp(`^ID\\s+PRIORITY\\s+ENABLED\\s+REPOSITORIES\\s+TAGS\\n${rule.id}\\s+0\\s+no\\s+\\*\\*\\s+v\\*, not v\\*-dev`));
    const deleted = await wharf(['immutability', 'delete', 'team', String(rule.id)]);
    assert.equal(deleted.code, 0, deleted.stderr);
    const again = await wharf(['immutability', 'delete', 'team', String(rule.id)]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error NOT_FOUND: no immutability rule \d+ in project team/m);
    const gone = await wharf(['artifact', 'delete', 'team/app:v1']);
    assert.equal(gone.code, 0, gone.stderr);
  });

  it('refuses bad patterns and arguments with a one-line refusal', async () => {
    const bad = await wharf(['immutability', 'add', 'team', '--tags', 'v{1']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error BAD_REQUEST: tags\[0\]\.pattern: invalid glob "v\{1"/m);
    const none = await wharf(['immutability', 'add', 'team']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^error BAD_REQUEST: say which tags/m);
    const project = await wharf(['immutability', 'list', 'Team']);
    assert.equal(project.code, 1);
    assert.match(project.stderr, /^error BAD_REQUEST: "Team" is not a project name/m);
  });
});
