import { opendir } from 'node:fs/promises';
import {
  close,
  constants,
  fdatasync,
  fstat,
  fsync,
  ftruncate,
  open as openCallback,
  writev,
  type Dirent,
} from 'node:fs';

// The hot paths (every append, commit and blob read) use numeric descriptors and the callback
// API: a FileHandle costs an object, a promise per call and a finalizer, and every call is a
// trip through libuv's thread pool anyway. These wrappers keep that to one promise per call.

/**
 * Mode of files the driver creates (before the umask): blobs of private projects must not be
 * readable by other local users, as the database and keys are not.
 */
export const FILE_MODE = 0o640;
/** Mode of directories the driver creates (before the umask). */
export const DIR_MODE = 0o750;

/** The code of a Node system error (`ENOENT`...), if `err` is one. */
export function errorCode(err: unknown): string | undefined {
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** True when `err` is a Node system error with one of `codes`. */
export function hasCode(err: unknown, ...codes: string[]): err is NodeJS.ErrnoException {
  const code = errorCode(err);
  return code !== undefined && codes.includes(code);
}

/** Opens `file` with numeric `flags` (`fs.constants.O_*`) and resolves its descriptor. */
export function openFd(file: string, flags: number, mode = FILE_MODE): Promise<number> {
  return new Promise((resolve, reject) => openCallback(file, flags, mode, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/** Closes a descriptor. */
export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, (err) => (err ? reject(err) : resolve())));
}

/** The size of the open file `fd`. */
export function sizeOfFd(fd: number): Promise<number> {
  return new Promise((resolve, reject) => fstat(fd, (err, stats) => (err ? reject(err) : resolve(stats.size))));
}

/** Cuts the open file `fd` to `size` bytes. */
export function truncateFd(fd: number, size: number): Promise<void> {
  return new Promise((resolve, reject) => ftruncate(fd, size, (err) => (err ? reject(err) : resolve())));
}

/**
 * Makes a file's bytes durable: `fdatasync` flushes the data and the metadata needed to read it
 * back (the size), and skips timestamps, which `fsync` would also write.
 */
export function syncData(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** Writes all of `chunks` at `position` with as few `writev` calls as the kernel allows. */
export async function writeAllAt(fd: number, chunks: readonly Uint8Array[], position: number): Promise<number> {
  let pending = chunks.filter((chunk) => chunk.length > 0);
  let total = 0;
  while (pending.length > 0) {
    const written = await new Promise<number>((resolve, reject) =>
      writev(fd, pending as NodeJS.ArrayBufferView[], position + total, (err, n) => (err ? reject(err) : resolve(n))),
    );
    if (written === 0) throw new Error('fs storage: the kernel wrote no bytes');
    total += written;
    pending = dropWritten(pending, written);
  }
  return total;
}

/** What is left of `chunks` after the first `written` bytes went out (a short write). */
function dropWritten(chunks: readonly Uint8Array[], written: number): Uint8Array[] {
  const rest: Uint8Array[] = [];
  let skip = written;
  for (const chunk of chunks) {
    if (skip >= chunk.length) {
      skip -= chunk.length;
      continue;
    }
    rest.push(skip > 0 ? chunk.subarray(skip) : chunk);
    skip = 0;
  }
  return rest;
}

/** A chunk of a byte stream as bytes; streams in object mode may carry strings. */
export function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw new TypeError(`fs storage: upload data must be bytes, got ${typeof chunk}`);
}

/**
 * Flushes a directory's entries (a created or renamed file is only durable once its directory
 * is). Platforms that cannot fsync a directory are tolerated.
 */
export async function syncDir(dir: string): Promise<void> {
  let fd: number | undefined;
  try {
    fd = await openFd(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    const opened = fd;
    await new Promise<void>((resolve, reject) => fsync(opened, (err) => (err ? reject(err) : resolve())));
  } catch (err) {
    if (!hasCode(err, 'EISDIR', 'EINVAL', 'EPERM', 'EBADF')) throw err;
  } finally {
    if (fd !== undefined) await closeFd(fd);
  }
}

/** The entries of a directory, streamed; nothing when the directory does not exist. */
export async function* entriesOf(dir: string): AsyncGenerator<Dirent> {
  let handle;
  try {
    handle = await opendir(dir);
  } catch (err) {
    if (hasCode(err, 'ENOENT', 'ENOTDIR')) return;
    throw err;
  }
  // The iterator closes the directory when the loop ends, breaks or throws.
  for await (const entry of handle) yield entry;
}

/** Opens a regular file for reading and returns its descriptor and size; directories fail with EISDIR. */
export function openForReading(file: string): Promise<{ fd: number; size: number }> {
  return new Promise((resolve, reject) => {
    openCallback(file, constants.O_RDONLY, (err, fd) => {
      if (err) return reject(err);
      fstat(fd, (statErr, stats) => {
        if (statErr || !stats.isFile()) {
          close(fd, () => undefined);
          const error = statErr ?? Object.assign(new Error(`not a file: ${file}`), { code: 'EISDIR' });
          return reject(error);
        }
        resolve({ fd, size: stats.size });
      });
    });
  });
}
