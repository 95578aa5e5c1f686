import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

/**
 * The architecture pages name files and folders of the code; this fails when one of them no
 * longer exists (a file moved without its page), and when a folder of the kernel is missing from
 * the kernel page's code map.
 */

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'docs', 'architecture'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find docs/architecture above the test file');
    dir = parent;
  }
  return dir;
}

const root = findRoot();
const pagesDir = path.join(root, 'docs', 'architecture');
/** A code path in backticks: `core/src/x.ts`, `plugins/storage-fs/`, `sdk/api/src/hooks.ts`. */
const CODE_PATH = /`((?:core|sdk|plugins|scripts|test|examples|server)\/[A-Za-z0-9_./-]+)`/g;

describe('architecture pages and the code', () => {
  it('name only files and folders that exist', async () => {
    const missing: string[] = [];
    for (const page of (await readdir(pagesDir)).filter((f) => f.endsWith('.md'))) {
      const text = await readFile(path.join(pagesDir, page), 'utf8');
      for (const [, ref] of text.matchAll(CODE_PATH)) {
        if (!existsSync(path.join(root, ref!.replace(/\/$/, '')))) missing.push(`${page}: ${ref}`);
      }
    }
    assert.deepEqual(missing, [], `paths named in docs/architecture that do not exist:\n${missing.join('\n')}`);
  });

  it('the kernel page maps every folder of core/src', async () => {
    const kernelPage = await readFile(path.join(pagesDir, '01-kernel.md'), 'utf8');
    const folders = (await readdir(path.join(root, 'core', 'src'), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    const unmapped = folders.filter((f) => !kernelPage.includes(`core/src/${f}/`) && !kernelPage.includes(`src/${f}/`) && !kernelPage.includes(`\`${f}/\``));
    assert.deepEqual(unmapped, [], `core/src folders missing from docs/architecture/01-kernel.md: ${unmapped.join(', ')}`);
  });
});
