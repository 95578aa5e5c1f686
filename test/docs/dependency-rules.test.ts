import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The dependency rule of the house style: plugins and examples build against `@wharf/sdk` and
 * test with `@wharf/sdk-testing`, never `@wharf/core`; the kernel depends on none of its plugins.
 * Checked on the sources and package.json files, so a new import fails here, not at publish time.
 */

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'core', 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find core/package.json above the test file');
    dir = parent;
  }
  return dir;
}

const root = findRoot();
const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const;
/** `from '@wharf/core'`, `import('@wharf/core/x')`, `require("@wharf/core")`, `export * from ...`. */
const CORE_IMPORT = /(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)['"]@wharf\/core(?:\/[^'"]*)?['"]/;

type PackageJson = Partial<Record<(typeof DEPENDENCY_FIELDS)[number], Record<string, string>>> & { name: string };

async function readPackage(dir: string): Promise<PackageJson> {
  return JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/** Package directories under plugins/ and examples/. */
async function pluginPackages(): Promise<string[]> {
  const dirs: string[] = [];
  for (const top of ['plugins', 'examples']) {
    for (const entry of await readdir(path.join(root, top), { withFileTypes: true })) {
      const dir = path.join(root, top, entry.name);
      if (entry.isDirectory() && existsSync(path.join(dir, 'package.json'))) dirs.push(dir);
    }
  }
  return dirs;
}

/** Every .ts/.js/.mjs/.cjs source file below `dir`, leaving out build output and installs. */
async function sources(dir: string, out: string[] = []): Promise<string[]> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await sources(full, out);
    else if (/\.(?:ts|mts|cts|js|mjs|cjs)$/.test(entry.name)) out.push(full);
  }
  return out;
}

describe('dependency rules', () => {
  it('recognises the forms of a @wharf/core import, and not other packages', () => {
    for (const line of [
      "import { startServer } from '@wharf/core';",
      'import type { X } from "@wharf/core/test-support";',
      "const core = await import('@wharf/core');",
      "export * from '@wharf/core';",
      "import '@wharf/core';",
    ]) assert.match(line, CORE_IMPORT, line);
    for (const line of ["import { definePlugin } from '@wharf/sdk';", "import { x } from '@wharf/core-extras';", '// @wharf/core is the kernel'])
      assert.doesNotMatch(line, CORE_IMPORT, line);
  });

  it('finds the plugin and example packages it checks', async () => {
    const names = (await Promise.all((await pluginPackages()).map(readPackage))).map((p) => p.name);
    for (const expected of ['@wharf/plugin-auth-db', '@wharf/plugin-auth-ldap', '@wharf/plugin-rbac-projects', 'wharf-plugin-auth-htpasswd'])
      assert.ok(names.includes(expected), `${expected} among ${names.join(', ')}`);
  });

  it('no plugin or example source, tests included, imports @wharf/core', async () => {
    const offenders: string[] = [];
    let checked = 0;
    for (const dir of await pluginPackages()) {
      for (const file of await sources(dir)) {
        checked++;
        const text = await readFile(file, 'utf8');
        text.split('\n').forEach((line, i) => {
          if (CORE_IMPORT.test(line)) offenders.push(`${path.relative(root, file)}:${i + 1}: ${line.trim()}`);
        });
      }
    }
    assert.ok(checked > 50, `only ${checked} source files found`);
    assert.deepEqual(offenders, [], 'use @wharf/sdk, or @wharf/sdk-testing in tests');
  });

  it('no plugin or example package.json lists @wharf/core', async () => {
    const offenders: string[] = [];
    for (const dir of await pluginPackages()) {
      const pkg = await readPackage(dir);
      for (const field of DEPENDENCY_FIELDS) if (pkg[field]?.['@wharf/core'] !== undefined) offenders.push(`${pkg.name} ${field}`);
    }
    assert.deepEqual(offenders, []);
  });

  it('@wharf/core depends on no @wharf/plugin-* package', async () => {
    const core = await readPackage(path.join(root, 'core'));
    const offenders = DEPENDENCY_FIELDS.flatMap((field) => Object.keys(core[field] ?? {}).filter((name) => name.startsWith('@wharf/plugin-')).map((name) => `${field}: ${name}`));
    assert.deepEqual(offenders, [], 'the wharf distribution package brings the default plugins, not the kernel');
  });

  it('every workspace package carries lerna.json\'s one version (fixed mode, ADR 0020)', async () => {
    const lerna = JSON.parse(await readFile(path.join(root, 'lerna.json'), 'utf8')) as { version?: string };
    assert.match(lerna.version ?? '', /^\d+\.\d+\.\d+/, 'lerna.json has a fixed version');
    const rootPkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
    const dirs: string[] = [];
    for (const pattern of rootPkg.workspaces) {
      if (pattern.endsWith('/*')) {
        const parent = path.join(root, pattern.slice(0, -2));
        for (const e of await readdir(parent, { withFileTypes: true })) if (e.isDirectory() && existsSync(path.join(parent, e.name, 'package.json'))) dirs.push(path.join(parent, e.name));
      } else dirs.push(path.join(root, pattern));
    }
    const off: string[] = [];
    for (const dir of dirs) {
      const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { name: string; version?: string; private?: boolean };
      if (pkg.version !== lerna.version) off.push(`${pkg.name}@${pkg.version ?? '(none)'}`);
    }
    assert.ok(dirs.length >= 10, `found ${dirs.length} workspace packages`);
    assert.deepEqual(off, [], `packages not at ${lerna.version}: ${off.join(', ')}`);
  });
});
