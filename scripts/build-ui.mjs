#!/usr/bin/env node
// npm run build:ui: type-checks and bundles the web UI (plugins/ui/web → plugins/ui/web-dist),
// unless the last build is newer than every input. `npm test` and `npm run test:quick` call
// it before each run, and a build takes 15-20 s of a 2-core machine for nothing when the UI
// did not change. `--force` builds anyway.
import { spawnSync } from 'node:child_process';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const ui = join(root, 'plugins', 'ui');
const stamp = join(ui, 'web-dist', '.built');
// What the bundle is made of: the sources, the build's settings, and the installed toolchain.
const inputs = [join(ui, 'web'), join(ui, 'package.json'), join(root, 'package-lock.json')];

async function newestMtime(path) {
  const s = await stat(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const entry of await readdir(path)) newest = Math.max(newest, await newestMtime(join(path, entry)));
  return newest;
}

const force = process.argv.includes('--force');
const built = await stat(stamp).then((s) => s.mtimeMs, () => undefined);
const newestInput = Math.max(...(await Promise.all(inputs.map(newestMtime))));
if (!force && built !== undefined && built >= newestInput) {
  console.log('web UI is up to date (plugins/ui/web-dist; npm run build:ui -- --force rebuilds it)');
  process.exit(0);
}
const result = spawnSync('npm', ['run', 'build', '--workspace', '@wharf/plugin-ui'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
// Written last: a failed or interrupted build leaves no stamp, so the next run builds again.
await writeFile(stamp, `${new Date().toISOString()}\n`);
