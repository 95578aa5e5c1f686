import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KERNEL_VERSION } from '@wharf/core';
import { tempDir, WHARF_BIN } from './test-support.js';

/** `wharf plugin verify`: the built binary as a child process, on the first-party plugins. */

const BIN = WHARF_BIN;

let dir: string;
let cleanup: () => Promise<void>;

function wharf(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WHARF_')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'plugin', 'verify', ...args], { cwd: dir, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function file(name: string, text: string): Promise<string> {
  await writeFile(path.join(dir, name), text);
  return name;
}

describe('wharf plugin verify', () => {
  before(async () => {
    ({ dir, cleanup } = await tempDir('wharf-cli-plugin-'));
  });
  after(() => cleanup());

  it('prints a summary of storage fs and exits 0', async () => {
    const run = await wharf(['fs', '--kind', 'storage']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^ok: storage plugin "fs" \d+\.\d+\.\d+\S* from @wharf\/plugin-storage-fs$/);
    assert.deepEqual(lines.slice(1), [
      `  kernel    ^0.1.0 (this kernel: ${KERNEL_VERSION})`,
      '  taps      (none)',
      '  services  core.storage',
    ]);
  });

  it('prints auth db as JSON, with its section read from a YAML file', async () => {
    const cfg = await file('db.yaml', 'bootstrapAdmin:\n  username: root\npasswordPolicy:\n  minLength: 12\n');
    const run = await wharf(['db', '--kind', 'auth', '--config', cfg, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const v = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(v), ['id', 'kind', 'version', 'kernel', 'packageName', 'taps', 'services', 'initDeps', 'migrations', 'routes'], 'the section (it may hold secrets) is not printed');
    assert.equal(v.id, 'db');
    assert.equal(v.packageName, '@wharf/plugin-auth-db');
    // Its taps are made in its init, which verification does not run; the init's needs are listed.
    assert.deepEqual(v.taps, []);
    assert.deepEqual(v.services, ['auth-db.users']);
    assert.deepEqual(v.initDeps, ['auth-db.users', 'core.database', 'core.events']);
    assert.equal(v.migrations, true);
  });

  it('exits 1 with one line naming a plugin that does not exist', async () => {
    const run = await wharf(['nope', '--kind', 'storage']);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^error REG_ERR_PLUGIN_NOT_FOUND: storage\.nope: no storage plugin "nope"; tried @wharf\/plugin-storage-nope, wharf-plugin-storage-nope [^\n]*\n$/);
  });

  it('exits 1 on the wrong kind', async () => {
    const run = await wharf(['@wharf/plugin-storage-fs', '--kind', 'auth']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^error REG_ERR_PLUGIN_KIND_MISMATCH: plugin "fs" at auth\[0\]\["@wharf\/plugin-storage-fs"\] is a storage plugin, not auth/);
    const unknownKind = await wharf(['fs', '--kind', 'storag']);
    assert.equal(unknownKind.code, 1);
    assert.match(unknownKind.stderr, /^error: option '--kind <kind>' argument 'storag' is invalid/);
    const noKind = await wharf(['fs']);
    assert.equal(noKind.code, 1);
    assert.match(noKind.stderr, /^error: required option '--kind <kind>' not specified/);
  });

  it('exits 1 with one line per config problem, each at its key path', async () => {
    const cfg = await file('bad-fs.yaml', 'root: 7\nfsyn: true\n');
    const run = await wharf(['fs', '--kind', 'storage', '--config', cfg]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.deepEqual(run.stderr.trim().split('\n').sort(), [
      'error REG_ERR_CONFIG_INVALID: storage.fs.fsyn: is not a known key; did you mean "fsync"? (plugin fs)',
      'error REG_ERR_CONFIG_INVALID: storage.fs.root: must be string (plugin fs)',
    ]);
  });

  it('exits 1 when the config file is missing or not a mapping', async () => {
    const missing = await wharf(['fs', '--kind', 'storage', '--config', 'missing.yaml']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error REG_ERR_CONFIG_READ: cannot read plugin config .*missing\.yaml: ENOENT/);
    const list = await wharf(['fs', '--kind', 'storage', '--config', await file('list.yaml', '- root\n')]);
    assert.equal(list.code, 1);
    assert.match(list.stderr, /must hold a mapping/);
  });
});
