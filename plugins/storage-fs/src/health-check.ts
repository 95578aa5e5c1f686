import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { KernelError } from '@wharf/sdk';
import { DIR_MODE, FILE_MODE, errorCode } from './fs-io.js';
import type { FsLayout } from './layout.js';

const REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  ENOTDIR: 'a parent of the path is not a directory',
  EEXIST: 'the path exists and is not a directory',
};

/** A boot-time error that says what failed, where, and why, in operator terms. */
function unusable(layout: FsLayout, action: string, target: string, err: unknown): KernelError {
  const code = errorCode(err);
  const reason = (code && REASONS[code]) ?? (err instanceof Error ? err.message : String(err));
  return new KernelError(
    'REG_ERR_STORAGE',
    `fs storage root "${layout.root}" is not usable: cannot ${action} "${target}": ${reason}${code ? ` (${code})` : ''}`,
    { plugin: 'fs', cause: err },
  );
}

/**
 * Proves the root is writable end to end: creates the layout, then writes, fsyncs and removes a
 * probe file. Also checks that uploads and blobs share a filesystem, since commit relies on an
 * atomic rename between them.
 */
export async function checkFsRoot(layout: FsLayout): Promise<void> {
  for (const dir of [layout.root, layout.blobsDir, layout.uploadsDir]) {
    try {
      await mkdir(dir, { recursive: true, mode: DIR_MODE });
    } catch (err) {
      throw unusable(layout, 'create directory', dir, err);
    }
  }

  // A root made before (or by hand) may let other users in; closing it closes everything below.
  try {
    const mode = (await stat(layout.root)).mode & 0o777;
    if ((mode & 0o007) !== 0) await chmod(layout.root, mode & ~0o007);
  } catch (err) {
    throw unusable(layout, 'restrict the permissions of', layout.root, err);
  }

  const probe = path.join(layout.uploadsDir, `.probe-${randomBytes(8).toString('hex')}`);
  try {
    const handle = await open(probe, 'wx', FILE_MODE);
    try {
      await handle.writeFile('wharf storage probe\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await rm(probe, { force: true }).catch(() => undefined);
    throw unusable(layout, 'write probe file', probe, err);
  }
  try {
    await rm(probe);
  } catch (err) {
    throw unusable(layout, 'remove probe file', probe, err);
  }

  const [blobs, uploads] = await Promise.all([stat(layout.blobsDir), stat(layout.uploadsDir)]);
  if (blobs.dev !== uploads.dev) {
    throw new KernelError(
      'REG_ERR_STORAGE',
      `fs storage root "${layout.root}": "${layout.blobsDir}" and "${layout.uploadsDir}" are on different filesystems; ` +
        'commits need an atomic rename between them, so mount the whole root on one filesystem',
      { plugin: 'fs' },
    );
  }
}
