import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { algorithmOf, publicKeysInPem } from '../auth/keys.js';
import type { ConfigProblem } from './validate.js';
import type { WharfConfig } from './types.js';

/**
 * Checks of the effective config that read local files but need no network: `secretKey` is
 * base64 of 32 bytes, the token key files exist, are readable and hold usable keys. Run by
 * loadConfig, so `wharf config check` reports them and `serve` fails on them before it
 * migrates or writes anything.
 */

const SECRET_KEY_BYTES = 32;

/** Strict base64 (Node's decoder ignores stray characters), as the secret box reads the key. */
export function secretKeyProblem(value: string): string | undefined {
  const text = value.trim();
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) return `must be base64 of ${SECRET_KEY_BYTES} random bytes (it is not base64); generate one with \`openssl rand -base64 32\``;
  if (bytes.length !== SECRET_KEY_BYTES) return `must be base64 of ${SECRET_KEY_BYTES} random bytes (it holds ${bytes.length}); generate one with \`openssl rand -base64 32\``;
  return undefined;
}

function readText(file: string): { text?: string; problem?: string } {
  try {
    return { text: readFileSync(file, 'utf8') };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
    return { problem: `cannot read ${file}: ${why}` };
  }
}

function signingKeyProblem(pem: string, algorithm: string): string | undefined {
  let alg: string | undefined;
  try {
    alg = algorithmOf(createPublicKey(createPrivateKey(pem)));
  } catch {
    return 'is not a PEM private key (unencrypted PKCS#8, PKCS#1 or SEC1)';
  }
  if (alg === undefined) return 'is an unsupported key; use RSA >= 2048 bits, EC P-256 or Ed25519';
  if (alg !== algorithm) return `is a ${alg} key but token.algorithm is ${algorithm}`;
  return undefined;
}

export function preflightProblems(config: WharfConfig, baseDir: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.secretKey !== undefined) {
    const problem = secretKeyProblem(config.secretKey);
    if (problem) problems.push({ path: 'secretKey', message: problem });
  }
  const token = config.token;
  if (token.enabled) {
    const keys = token.keys;
    // The inline key wins over the file, as the token service reads them.
    if (keys.signingKey !== undefined) {
      const problem = signingKeyProblem(keys.signingKey, token.algorithm);
      if (problem) problems.push({ path: 'token.keys.signingKey', message: problem });
    } else if (keys.signingKeyFile !== undefined) {
      const file = path.resolve(baseDir, keys.signingKeyFile);
      const read = readText(file);
      const problem = read.problem ?? signingKeyProblem(read.text ?? '', token.algorithm);
      if (problem) problems.push({ path: 'token.keys.signingKeyFile', message: read.problem ? problem : `${file} ${problem}` });
    }
    keys.verificationKeyFiles.forEach((name, i) => {
      const at = `token.keys.verificationKeyFiles[${i}]`;
      const file = path.resolve(baseDir, name);
      const read = readText(file);
      if (read.problem) return void problems.push({ path: at, message: read.problem });
      try {
        for (const key of publicKeysInPem(read.text ?? '', at)) {
          if (algorithmOf(key) === undefined) problems.push({ path: at, message: `${file} holds an unsupported key; use RSA >= 2048 bits, EC P-256 or Ed25519` });
        }
      } catch (err) {
        problems.push({ path: at, message: `${file}: ${(err as Error).message.replace(`${at}: `, '')}` });
      }
    });
  }
  return problems;
}
