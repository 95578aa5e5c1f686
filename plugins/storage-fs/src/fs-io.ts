import { open, opendir, type FileHandle } from 'node:fs/promises';
import { close, constants, fstat, open as openCallback, type Dirent } from 'node:fs';

/** Mode of files the driver creates (before the umask). */
export const FILE_MODE = 0o644;
/** Mode of directories the driver creates (before the umask). */
export const DIR_MODE = 0o755;

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

/** Writes all of `bytes` at `position` (positional writes, so the file offset never matters). */
export async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
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
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    if (!hasCode(err, 'EISDIR', 'EINVAL', 'EPERM', 'EBADF')) throw err;
  } finally {
    await handle?.close();
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
