import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the scaffold gets what npm cannot: `@wharf/sdk` and `@wharf/sdk-testing` are not on the
 * npm registry, so a scaffolded package links them (`file:`) from the installation that runs
 * `wharf plugin new` (a checkout of the Wharf repository or an installed `@wharf/server`), and
 * its next steps name that installation's `wharf` binary rather than `npx wharf` (which would
 * look for an unrelated `wharf` package on the registry).
 */

/** The directory of an installed package, found from its main entry as this package sees it. */
export function packageDir(name: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.resolve(name)));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) return realpathSync(dir);
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the directory of ${name}`);
    dir = up;
  }
}

/** Single-quoted for a POSIX shell when it needs to be. */
export function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** How to run this `wharf` again: `node <its bin>`, or `wharf` when it is not known. */
export function wharfCommand(argv1: string | undefined = process.argv[1]): string {
  if (!argv1 || !existsSync(argv1)) return 'wharf';
  return `node ${shellQuote(realpathSync(argv1))}`;
}
