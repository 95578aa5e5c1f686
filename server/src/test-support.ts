import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the distribution's tests share: the built binary and temp directories. */

/** `bin/wharf.js` of this package (the tests run from dist/). */
export const WHARF_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/wharf.js');

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const made = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir: made, cleanup: () => rm(made, { recursive: true, force: true }) };
}
