import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Set WHARF_E2E_KEEP=1 to leave temp dirs behind for a post-mortem. */
export const keepTemp = process.env['WHARF_E2E_KEEP'] === '1';

/** A fresh, unique directory under the OS temp dir. */
export async function makeTempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `wharf-e2e-${label}-`));
}

/** Removes a directory tree unless WHARF_E2E_KEEP=1; never throws. */
export async function removeDir(dir: string): Promise<void> {
  if (keepTemp) {
    process.stderr.write(`# kept ${dir}\n`);
    return;
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
}

/** A repository name no other test (or earlier run) uses. */
export function uniqueRepo(prefix: string): string {
  const rand = Math.random().toString(36).slice(2, 8);
  return `e2e/${prefix}-${Date.now().toString(36)}-${rand}`;
}
