import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Encryption at rest of the policies' signing secrets and auth headers: AES-256-GCM with a
 * fresh IV per value, stored as `v1:<iv>:<tag>:<ciphertext>` (base64), the same format as the
 * kernel's replication secret box. Plugins cannot reach the kernel's box, so the key is the
 * plugin's own: `secretKey` from config or the key file `webhooks-secret.key` (mode 0600) in the
 * data directory. When the kernel offers `coreServices.secrets`, this file goes.
 */

export const KEY_FILE = 'webhooks-secret.key';
const IV_BYTES = 12;

export interface SecretBox {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
}

export function createSecretBox(keyBytes: Buffer): SecretBox {
  if (keyBytes.length !== 32) throw new Error('webhooks secret key must be 32 bytes (base64 of 32 random bytes)');
  const key: KeyObject = createSecretKey(Buffer.from(keyBytes));
  const aad = (context: string) => Buffer.from(`wharf-webhooks:v1:${context}`);
  return {
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad(context));
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join(':');
    },
    open(sealed, context) {
      const [version, iv, tag, data] = sealed.split(':');
      if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('webhooks secret box: malformed value');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
        decipher.setAAD(aad(context));
        decipher.setAuthTag(Buffer.from(tag, 'base64'));
        return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
      } catch {
        // Never the value or the key in the message.
        throw new Error('webhooks secret box: cannot decrypt (wrong key, or the value was altered)');
      }
    },
  };
}

function parseKey(text: string, where: string): Buffer {
  const bytes = Buffer.from(text.trim(), 'base64');
  if (bytes.length !== 32) throw new Error(`webhooks: ${where} must be base64 of 32 bytes`);
  return bytes;
}

/** The configured key, else the data directory's key file (created once, 0600; several processes agree on one). */
export async function openSecretBox(options: { key?: string | undefined; dataDir: string }): Promise<SecretBox> {
  if (options.key) return createSecretBox(parseKey(options.key, 'secretKey'));
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const file = join(options.dataDir, KEY_FILE);
  try {
    const handle = await open(file, 'wx', 0o600);
    try {
      await handle.writeFile(`${randomBytes(32).toString('base64')}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`webhooks: cannot create key file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  // A concurrent creator may still be writing: wait for the whole key.
  for (let i = 0; ; i++) {
    const text = await readFile(file, 'utf8');
    if (text.endsWith('\n') || i >= 50) {
      const info = await stat(file);
      if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) throw new Error(`webhooks: key file ${file} must be readable by its owner only (chmod 600)`);
      return createSecretBox(parseKey(text, `key file ${file}`));
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
