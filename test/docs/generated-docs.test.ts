import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

/**
 * docs/reference/ is generated from the code by scripts/gen-docs.mjs. These tests fail when a
 * hook, config key or error code changed without `npm run docs`, and check that the generator's
 * check mode really notices a stale or missing page.
 */

/** The repository root: the nearest directory up from here holding scripts/gen-docs.mjs. */
function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'scripts', 'gen-docs.mjs'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find scripts/gen-docs.mjs above the test file');
    dir = parent;
  }
  return dir;
}

const root = findRoot();
const PAGES = ['hooks.md', 'services.md', 'config.md', 'errors.md'] as const;

function generator(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [path.join(root, 'scripts', 'gen-docs.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('generated reference docs', () => {
  it('docs/reference matches the code (run `npm run docs` if this fails)', () => {
    const run = generator('--check');
    assert.equal(run.status, 0, `gen-docs --check failed:\n${run.stderr}`);
    assert.match(run.stdout, /up to date/);
  });

  describe('check mode', () => {
    let dir: string;

    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-gen-docs-'));
      const run = generator('--out', dir);
      assert.equal(run.status, 0, run.stderr);
    });

    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('accepts a freshly generated directory', () => {
      const run = generator('--check', '--out', dir);
      assert.equal(run.status, 0, run.stderr);
    });

    it('names a stale page and exits non-zero', async () => {
      const file = path.join(dir, 'hooks.md');
      const original = await readFile(file, 'utf8');
      await writeFile(file, original.replace('auth.authenticate', 'auth.authenticated'));
      try {
        const run = generator('--check', '--out', dir);
        assert.equal(run.status, 1);
        assert.match(run.stderr, /hooks\.md \(stale\)/);
        assert.doesNotMatch(run.stderr, /config\.md|errors\.md/);
      } finally {
        await writeFile(file, original);
      }
    });

    it('names a missing page', async () => {
      const file = path.join(dir, 'errors.md');
      const original = await readFile(file, 'utf8');
      await unlink(file);
      try {
        const run = generator('--check', '--out', dir);
        assert.equal(run.status, 1);
        assert.match(run.stderr, /errors\.md \(missing\)/);
      } finally {
        await writeFile(file, original);
      }
    });
  });

  describe('content', () => {
    const read = (name: (typeof PAGES)[number]) => readFile(path.join(root, 'docs', 'reference', name), 'utf8');

    it('documents every hook declared in sdk/api/src/hooks.ts', async () => {
      const source = await readFile(path.join(root, 'sdk', 'api', 'src', 'hooks.ts'), 'utf8');
      const domains = new Map([...source.matchAll(/readonly (\w+): (\w+Hooks);/g)].map((m) => [m[2], m[1]]));
      const page = await read('hooks.md');
      let count = 0;
      for (const iface of source.matchAll(/export interface (\w+Hooks) \{([\s\S]*?)\n\}/g)) {
        const domain = domains.get(iface[1] ?? '');
        if (!domain) continue;
        for (const member of (iface[2] ?? '').matchAll(/readonly (\w+):/g)) {
          count += 1;
          assert.match(page, new RegExp(`^### ${domain}\\.${member[1]}$`, 'm'), `hooks.md lacks ${domain}.${member[1]}`);
        }
      }
      assert.ok(count >= 10, `expected the whole catalogue, found ${count} hooks`);
    });

    it('matches the catalogue the kernel creates: every hook, with its tapable kind', async () => {
      const { createHooks } = (await import('@wharf/core')) as typeof import('@wharf/core');
      const page = await read('hooks.md');
      const documented = new Map([...page.matchAll(/^### (\S+)\n[\s\S]*?^- \*\*Kind:\*\* `([^`]+)`$/gm)].map((m) => [m[1], m[2]]));
      const runtime = new Map<string, string>();
      for (const [domain, group] of Object.entries(createHooks())) {
        for (const [name, hook] of Object.entries(group as Record<string, { constructor: { name: string }; for?: (k: string) => object }>)) {
          const kind = typeof hook.for === 'function' ? `HookMap<${hook.for('docs-test').constructor.name}>` : hook.constructor.name;
          runtime.set(`${domain}.${name}`, kind);
        }
      }
      assert.deepEqual([...documented.entries()].sort(), [...runtime.entries()].sort());
    });

    it('documents every kernel service ref the SDK exports, with its id and the members of its interface', async () => {
      const { coreServices } = (await import('@wharf/sdk')) as typeof import('@wharf/sdk');
      const page = await read('services.md');
      for (const [key, ref] of Object.entries(coreServices)) {
        assert.match(page, new RegExp(`^## coreServices\\.${key}$`, 'm'), `services.md lacks coreServices.${key}`);
        assert.ok(page.includes(`| \`${ref.id}\` |`), `services.md lacks the id ${ref.id}`);
      }
      for (const member of ['listReferencing(digest', 'listUnreferenced(olderThan', 'putBlob(repository', 'cancel(id']) {
        assert.ok(page.includes(`| \`${member}`), `services.md lacks ${member}`);
      }
    });

    it('documents every OCI error code with its status', async () => {
      const { OCI_ERRORS } = (await import('@wharf/sdk')) as typeof import('@wharf/sdk');
      const page = await read('errors.md');
      for (const d of Object.values(OCI_ERRORS)) assert.ok(page.includes(`| \`${d.code}\` | ${d.status} |`), `errors.md lacks ${d.code}`);
    });

    it('documents kernel keys with their environment names, and the fs plugin', async () => {
      const page = await read('config.md');
      assert.match(page, /\| `server\.listen` \| string \| `"127\.0\.0\.1:5000"` \| `WHARF_SERVER__LISTEN` \|/);
      assert.match(page, /\| `log\.access` \| boolean \| `true` \| `WHARF_LOG__ACCESS` \|/);
      assert.match(page, /`database\.connection\.password`[^\n]*\*\*secret\*\*/);
      assert.match(page, /\| `storage\.fs\.root` \|/);
    });
  });
});
