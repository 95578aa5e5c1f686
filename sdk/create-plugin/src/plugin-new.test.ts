import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PLUGIN_KINDS } from '@wharf/sdk';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { KERNEL_VERSION } from '@wharf/core';

/** The repository root (this file runs from sdk/create-plugin/dist). */
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const made = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir: made, cleanup: () => rm(made, { recursive: true, force: true }) };
}

/**
 * `wharf plugin new`, run as the built binary of the distribution (which contributes it). Each generated package is built and tested as
 * generated, with the SDK, the kit, TypeScript and @types/node linked into a node_modules above
 * it, the way a plugin author working inside this monorepo would have them.
 */

const BIN = path.join(REPO_ROOT, 'server/bin/wharf.js');
const MODULES = path.join(REPO_ROOT, 'node_modules');
const TSC = path.join(MODULES, 'typescript/bin/tsc');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** No WHARF_* from whoever runs the tests, and no NODE_TEST_CONTEXT (it would make a nested `node --test` talk to us instead of printing TAP). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WHARF_') && k !== 'NODE_TEST_CONTEXT'));
}

function node(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: cleanEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const wharf = (args: string[], cwd: string) => node([BIN, ...args], cwd);

/** A TAP summary count (`# pass 12`). */
function tapCount(output: string, what: 'pass' | 'fail'): number {
  const m = new RegExp(`^# ${what} (\\d+)$`, 'm').exec(output);
  assert.ok(m?.[1], `no "# ${what}" line in:\n${output}`);
  return Number(m[1]);
}

let dir: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir, cleanup } = await tempDir('wharf-scaffold-'));
  const link = async (from: string, to: string) => {
    await mkdir(path.dirname(path.join(dir, 'node_modules', to)), { recursive: true });
    await symlink(path.join(MODULES, from), path.join(dir, 'node_modules', to), 'dir');
  };
  for (const p of ['@wharf/sdk', '@wharf/sdk-testing', '@wharf/core', 'typescript', '@types/node']) await link(p, p);
});
after(() => cleanup());

describe('wharf plugin new: every kind builds and passes its own tests as generated', { concurrency: 2 }, () => {
  for (const kind of PLUGIN_KINDS) {
    it(kind, async () => {
      const name = `my-${kind}`;
      const packageName = `wharf-plugin-${kind}-${name}`;
      const created = await wharf(['plugin', 'new', kind, name], dir);
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, new RegExp(`^created ${kind} plugin "${name}" \\(${packageName}\\) in ${packageName}\n`));
      assert.match(created.stdout, /next steps:\n {2}cd /);

      const pkgDir = path.join(dir, packageName);
      assert.deepEqual((await readdir(pkgDir, { recursive: true })).sort(), ['.gitignore', 'README.md', 'package.json', 'src', 'src/index.test.ts', 'src/index.ts', 'tsconfig.json']);
      const pkg = JSON.parse(await readFile(path.join(pkgDir, 'package.json'), 'utf8'));
      assert.equal(pkg.name, packageName);
      assert.equal(pkg.type, 'module');
      assert.deepEqual(pkg.peerDependencies, { '@wharf/sdk': `^${KERNEL_VERSION}` });
      // Not on the npm registry: linked from this installation (the next steps test installs them).
      assert.equal(pkg.devDependencies['@wharf/sdk'], `file:${path.join(REPO_ROOT, 'sdk/api')}`);
      assert.equal(pkg.devDependencies['@wharf/sdk-testing'], `file:${path.join(REPO_ROOT, 'sdk/testing')}`);
      assert.ok(pkg.scripts.build && pkg.scripts.test);
      const readme = await readFile(path.join(pkgDir, 'README.md'), 'utf8');
      assert.match(readme, new RegExp(`\n {2}(- )?${name}:\n`), 'the README shows the wharf.yaml section');

      const build = await node([TSC, '-p', 'tsconfig.json'], pkgDir);
      assert.equal(build.code, 0, `tsc -p failed:\n${build.stdout}${build.stderr}`);
      const test = await node(['--test', '--test-reporter=tap', 'dist/'], pkgDir);
      assert.equal(test.code, 0, `node --test dist/ failed:\n${test.stdout}${test.stderr}`);
      assert.equal(tapCount(test.stdout, 'fail'), 0);
      assert.ok(tapCount(test.stdout, 'pass') >= 3, test.stdout);

      const verified = await wharf(['plugin', 'verify', './', '--kind', kind], pkgDir);
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stdout, new RegExp(`^ok: ${kind} plugin "${name}" 0\\.1\\.0 from ${packageName}\n`));
    });
  }
});

/** The commands of the printed next steps, comments dropped: `cd x`, `npm install`... */
function nextSteps(stdout: string): string[] {
  const lines = stdout.split('\n');
  return lines
    .slice(lines.indexOf('next steps:') + 1)
    .map((l) => l.replace(/\s+# .*$/, '').trim())
    .filter((l) => l !== '');
}

function sh(command: string, cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd, env: cleanEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('wharf plugin new: the printed next steps work as printed, with only the npm registry', () => {
  it('cd, npm install, npm test, plugin verify, npm pack', async () => {
    // A directory with no node_modules above it: everything comes from the steps themselves.
    const { dir: alone, cleanup: done } = await tempDir('wharf-scaffold-steps-');
    try {
      const created = await wharf(['plugin', 'new', 'auth', 'steps'], alone);
      assert.equal(created.code, 0, created.stderr);
      const steps = nextSteps(created.stdout);
      assert.deepEqual(steps.map((s) => s.split(' ')[0]), ['cd', 'npm', 'npm', 'node', 'npm']);
      const readme = await readFile(path.join(alone, 'wharf-plugin-auth-steps', 'README.md'), 'utf8');
      for (const step of steps.slice(1)) assert.ok(readme.includes(`\n${step}    # `), `the README shows "${step}"`);
      let cwd = alone;
      for (const step of steps) {
        if (step.startsWith('cd ')) {
          cwd = path.resolve(cwd, step.slice(3));
          continue;
        }
        const run = await sh(step, cwd);
        assert.equal(run.code, 0, `${step}:\n${run.stdout}${run.stderr}`);
        if (step === 'npm test') assert.equal(tapCount(run.stdout, 'fail'), 0);
      }
      assert.ok((await stat(path.join(cwd, 'wharf-plugin-auth-steps-0.1.0.tgz'))).isFile());
    } finally {
      await done();
    }
  });
});

describe('wharf plugin new: refusals', () => {
  it('refuses an unknown kind, naming the kinds', async () => {
    const run = await wharf(['plugin', 'new', 'cache', 'redis'], dir);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, `error: plugin new: unknown kind "cache"; use one of ${PLUGIN_KINDS.join(', ')}\n`);
  });

  it('refuses names that are not lowercase letters, digits and single dashes', async () => {
    for (const name of ['My-Users', 'my_users', '1users', 'my--users', 'users-', 'my.users', '../escape']) {
      const run = await wharf(['plugin', 'new', 'auth', name], dir);
      assert.equal(run.code, 1, name);
      assert.match(run.stderr, /^error: plugin new: invalid name "[^"]*"; use lowercase letters, digits and single dashes/, name);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    }
    await assert.rejects(stat(path.join(dir, 'wharf-plugin-auth-My-Users')), { code: 'ENOENT' });
  });

  it('refuses an existing non-empty directory and leaves it untouched', async () => {
    const taken = path.join(dir, 'taken');
    await mkdir(taken);
    await writeFile(path.join(taken, 'keep.txt'), 'mine');
    const run = await wharf(['plugin', 'new', 'auth', 'taken', '--dir', 'taken'], dir);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, `error: plugin new: ${taken} already exists and is not an empty directory; choose another --dir\n`);
    assert.deepEqual(await readdir(taken), ['keep.txt']);
    assert.equal(await readFile(path.join(taken, 'keep.txt'), 'utf8'), 'mine');
  });

  it('refuses a --dir that is a file', async () => {
    await writeFile(path.join(dir, 'a-file'), 'x');
    const run = await wharf(['plugin', 'new', 'rbac', 'x', '--dir', 'a-file'], dir);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^error: plugin new: .*a-file already exists and is not an empty directory/);
  });

  it('fills an existing empty directory given with --dir', async () => {
    await mkdir(path.join(dir, 'empty', 'nested'), { recursive: true });
    const run = await wharf(['plugin', 'new', 'extension', 'hello', '--dir', 'empty/nested'], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^created extension plugin "hello" \(wharf-plugin-extension-hello\) in empty\/nested\n/);
    const pkg = JSON.parse(await readFile(path.join(dir, 'empty/nested/package.json'), 'utf8'));
    assert.equal(pkg.name, 'wharf-plugin-extension-hello');
  });
});
