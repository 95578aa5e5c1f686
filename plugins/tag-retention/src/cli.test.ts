import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pushImage, runCommand, startTestRegistry, tinyImage, type TestRegistry } from '@wharf/sdk-testing';
import { tagRetentionPlugin } from './index.js';

/**
 * `wharf retention set|show|run|executions`: the built binary as a child process on the SQLite
 * file and blobs of a registry the test filled by pushing. Few runs: each spawns the binary.
 */

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../server/bin/wharf.js');

let dir: string;
let registry: TestRegistry | undefined;
const wharf = (args: string[]) => runCommand(process.execPath, [BIN, ...args, '--config', 'wharf.yaml'], { cwd: dir });

describe('wharf retention', () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-cli-retention-'));
    registry = await startTestRegistry({ plugins: [tagRetentionPlugin], dataDir: path.join(dir, 'data') });
    for (const tag of ['v1', 'v2', 'v3']) {
      await pushImage(registry.url, 'team/app', tag, tinyImage({ text: `cli ${tag}\n` }));
      await new Promise((r) => setTimeout(r, 15));
    }
    await registry.close();
    registry = undefined;
    await writeFile(path.join(dir, 'wharf.yaml'), 'dataDir: ./data\nstorage: { fs: { fsync: false } }\nauth: []\nrbac: {}\n');
    await writeFile(path.join(dir, 'policy.json'), JSON.stringify({
      rules: [{ template: 'latestPushedK', value: 1, repositories: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }], tags: [{ kind: 'doublestar', decoration: 'matches', pattern: 'v*' }] }],
    }));
    await writeFile(path.join(dir, 'bad.json'), JSON.stringify({ rules: [{ template: 'latestPushedK', repositories: [], tags: [] }] }));
  });
  after(async () => {
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sets and shows a policy; refuses a bad one in one line', async () => {
    const bad = await wharf(['retention', 'set', 'team', 'bad.json']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error BAD_REQUEST: rules\[0\]\.value: latestPushedK needs a value of at least 1/m);
    const set = await wharf(['retention', 'set', 'team', 'policy.json']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout.trim(), 'retention policy of team set: 1 rules, schedule none');
    const show = await wharf(['retention', 'show', 'team']);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /schedule: none \(on demand\)/);
    assert.match(show.stdout, /\n1\s+latestPushedK\s+1\s+matches "\*\*"\s+matches "v\*"\s+no\s+yes/);
  });

  it('runs a dry run, then for real, and lists the executions', async () => {
    const dry = await wharf(['retention', 'run', 'team', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /team\/app@sha256:[0-9a-f]{64} \[v1\] would-delete: selected but not kept by rule 1/);
    assert.match(dry.stdout, /\[v3\] retained: kept by rule 1/);
    assert.match(dry.stdout, /execution 1: succeeded \(2 would be deleted, 1 retained of 3\)/);
    const real = await wharf(['retention', 'run', 'team', '--json']);
    assert.equal(real.code, 0, real.stderr);
    const out = JSON.parse(real.stdout) as { execution: { deleted: number; dryRun: boolean }; tasks: { decisions: { tags: string[]; outcome: string }[] }[] };
    assert.deepEqual([out.execution.dryRun, out.execution.deleted], [false, 2]);
    assert.deepEqual(out.tasks[0]!.decisions.map((d) => `${d.tags.join()} ${d.outcome}`).sort(), ['v1 deleted', 'v2 deleted', 'v3 retained']);
    const left = await wharf(['artifact', 'list', 'team/app', '--json']);
    assert.deepEqual((JSON.parse(left.stdout) as { tags: string[] }[]).map((a) => a.tags), [['v3']]);
    const list = await wharf(['retention', 'executions', 'team']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^ID\s+TRIGGER\s+DRY RUN\s+STATUS/);
    assert.match(list.stdout, /\n2\s+manual\s+no\s+succeeded\s+1\s+2\s+3\s/);
    const none = await wharf(['retention', 'show', 'nope']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^error NOT_FOUND: project nope has no retention policy/m);
  });
});
