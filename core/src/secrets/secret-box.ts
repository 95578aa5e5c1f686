import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { link, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { SecretService } from '@wharf/sdk';

/**
 * Encryption at rest for replication endpoint secrets: AES-256-GCM, a fresh 12-byte IV per value,
 * stored as `v1:<iv>:<tag>:<ciphertext>` (base64). The version prefix lets a later format or key
 * rotation coexist with stored rows. An optional context (e.g. the endpoint id) is authenticated
 * too, so a ciphertext copied onto another row does not decrypt there.
 *
 * The key comes from config (base64 of 32 bytes) or, when not configured, from a key file in the
 * data directory, created once with mode 0600. No error message ever contains a key, a plaintext
 * or a stored value.
 */

export const SECRET_KEY_BYTES = 32;
/** File name of the generated key in the data directory. */
export const SECRET_KEY_FILE = 'replication-secret.key';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Strict base64: Node's decoder ignores stray characters and padding bits, which would make several strings decode alike. */
function decodeBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

export type SecretBoxErrorCode = 'KEY_INVALID' | 'KEY_FILE' | 'MALFORMED' | 'UNSUPPORTED_VERSION' | 'DECRYPT_FAILED';

export class SecretBoxError extends Error {
  constructor(
    readonly code: SecretBoxErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`secret box: ${message}`, options);
    this.name = 'SecretBoxError';
  }
}

/** The box behind `coreServices.secrets` (see `SecretService` in the SDK). */
export type SecretBox = SecretService;

export interface SecretBoxOptions {
  /** Base64 of 32 random bytes, from config. When set, no key file is read or written. */
  readonly key?: string | undefined;
  /** Where the key file lives when no key is configured. */
  readonly dataDir: string;
}

/** A new random key, base64, for operators to put in config. */
export function generateSecretKey(): string {
  return randomBytes(SECRET_KEY_BYTES).toString('base64');
}

/** Decodes a configured key; `where` names its origin in the message (never its value). */
export function parseSecretKey(base64: string, where = 'configured key'): Buffer {
  const text = base64.trim();
  const bytes = decodeBase64(text);
  if (bytes === undefined || bytes.length !== SECRET_KEY_BYTES) {
    const got = bytes === undefined ? 'not base64' : `${bytes.length} bytes`;
    throw new SecretBoxError('KEY_INVALID', `${where} must be base64 of ${SECRET_KEY_BYTES} bytes (${got})`);
  }
  return bytes;
}

function aad(context: string | undefined): Buffer {
  return Buffer.from(`wharf-secret:${VERSION}:${context ?? ''}`, 'utf8');
}

/** A box around a 32-byte key. */
export function createSecretBox(keyBytes: Buffer): SecretBox {
  if (keyBytes.length !== SECRET_KEY_BYTES) throw new SecretBoxError('KEY_INVALID', `key must be ${SECRET_KEY_BYTES} bytes`);
  // A KeyObject keeps the raw bytes out of inspection and accidental logging.
  const key: KeyObject = createSecretKey(Buffer.from(keyBytes));
  return {
    encrypt(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad(context));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(':');
    },
    decrypt(sealed, context) {
      const parts = sealed.split(':');
      const version = parts[0] ?? '';
      if (parts.length === 4 && version !== VERSION && /^v\d{1,4}$/.test(version)) {
        throw new SecretBoxError('UNSUPPORTED_VERSION', `unsupported format ${version} (this build reads ${VERSION})`);
      }
      const [iv, tag, data] = parts.slice(1).map(decodeBase64);
      if (parts.length !== 4 || version !== VERSION || iv === undefined || tag === undefined || data === undefined) {
        throw new SecretBoxError('MALFORMED', `malformed value (expected ${VERSION}:<iv>:<tag>:<ciphertext> in base64)`);
      }
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
        throw new SecretBoxError('MALFORMED', `malformed value (bad IV or tag length)`);
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad(context));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
      } catch {
        // OpenSSL's message says nothing useful; the cause is dropped so nothing else leaks either.
        throw new SecretBoxError('DECRYPT_FAILED', 'cannot decrypt value: wrong key, wrong context, or the value was altered');
      }
    },
  };
}

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

async function readKeyFile(file: string): Promise<Buffer> {
  const info = await stat(file);
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
    throw new SecretBoxError('KEY_FILE', `key file ${file} has mode ${mode}; it must be readable by its owner only (chmod 600)`);
  }
  return parseSecretKey(await readFile(file, 'utf8'), `key file ${file}`);
}

/**
 * Reads the key file, creating it first if absent. Creation writes a temporary file (0600,
 * fsynced) and hard-links it into place: `link` fails if the name exists, so when several
 * processes start together exactly one key wins and every process reads that one back.
 */
export async function loadOrCreateKeyFile(file: string): Promise<Buffer> {
  try {
    return await readKeyFile(file);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw wrapFileError(err, file);
  }
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${generateSecretKey()}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, file);
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
    }
  } catch (err) {
    throw wrapFileError(err, file);
  } finally {
    await rm(temp, { force: true });
  }
  await syncDirectory(dirname(file));
  try {
    return await readKeyFile(file);
  } catch (err) {
    throw wrapFileError(err, file);
  }
}

function wrapFileError(err: unknown, file: string): Error {
  if (err instanceof SecretBoxError) return err;
  const code = err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err);
  return new SecretBoxError('KEY_FILE', `cannot create or read key file ${file} (${code})`, { cause: err });
}

// Makes the new directory entry durable; best effort, some filesystems refuse to fsync a directory.
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* not fatal: the key file itself was fsynced */
  }
}

/** The box for this deployment: the configured key, else the data directory's key file. */
export async function openSecretBox(options: SecretBoxOptions): Promise<SecretBox> {
  if (options.key !== undefined && options.key !== '') return createSecretBox(parseSecretKey(options.key));
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  return createSecretBox(await loadOrCreateKeyFile(join(options.dataDir, SECRET_KEY_FILE)));
}
