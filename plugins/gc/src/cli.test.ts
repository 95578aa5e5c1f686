import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pushImage, runCommand, startTestRegistry, tinyImage, type TestRegistry } from '@wharf/sdk-testing';
import { gcPlugin } from './index.js';

/**
 * `wharf gc run|status|history`: the built binary as a child process on the SQLite file and
 * blob directory of a registry the test filled (an image pushed, then deleted). Plain lines on
 * stderr (not a terminal), the summary on stdout.
 */

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../server/bin/wharf.js');

let dir: string;
let registry: TestRegistry;
const gone = tinyImage({ text: 'cli gc gone\n' });
const wharf = (args: string[]) => runCommand(process.execPath, [BIN, ...args, '--config', 'wharf.yaml'], { cwd: dir });

describe('wharf gc', () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-cli-gc-'));
    registry = await startTestRegistry({ plugins: [gcPlugin], dataDir: path.join(dir, 'data') });
    const pushed = await pushImage(registry.url, 'team/app', 'v1', gone);
    const res = await fetch(`${registry.url}/v2/team/app/manifests/${pushed.digest}`, { method: 'DELETE' });
    assert.equal(res.status, 202);
    await registry.close();
    await writeFile(path.join(dir, 'wharf.yaml'), 'dataDir: ./data\nstorage: { fs: { fsync: false } }\nauth: []\nrbac: {}\nextensions: { gc: { graceWindowMinutes: 0 } }\n');
  });
  after(async () => {
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs a dry run and a collection here with --wait, then shows status and history', async () => {
    const dry = await wharf(['gc', 'run', '--dry-run', '--wait']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^garbage collection 1 succeeded: would free [0-9.]+ (B|KiB): 2 of 2 candidate blobs/m);
    const run = await wharf(['gc', 'run', '--wait']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^garbage collection 2 succeeded: freed [0-9.]+ (B|KiB): 2 of 2 candidate blobs/m);
    assert.match(run.stderr, /sweep\s+\[#+\] 2 deleted of 2 marked/, 'a progress line, plain when stderr is no terminal');
    const status = await wharf(['gc', 'status', '--json']);
    assert.equal(status.code, 0, status.stderr);
    const latest = JSON.parse(status.stdout) as { id: number; blobsDeleted: number; log: { message: string }[] };
    assert.deepEqual([latest.id, latest.blobsDeleted], [2, 2]);
    assert.ok(latest.log.some((l) => /deleted 2 blobs/.test(l.message)));
    const history = await wharf(['gc', 'history']);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /^ID\s+STATUS\s+DRY RUN\s+TRIGGER\s+BLOBS\s+FREED\s+REQUESTED\n2\s+succeeded\s+no\s+cli\s+2\/2/);
    const bad = await wharf(['gc', 'run', '--workers', '0']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /error BAD_REQUEST: --workers must be at least 1/);
    const unknown = await wharf(['gc', 'status', '99']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /error NOT_FOUND: no garbage collection 99/);
  });
});
