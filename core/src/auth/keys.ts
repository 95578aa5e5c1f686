import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { KernelError } from '@wharf/sdk';
import type { TokenAlgorithm, TokenSettings } from '../config/types.js';

/**
 * The token service's keys: one signing key (from a file, inline config, or generated into
 * `<dataDir>/token/signing.pem` on first start, 0600) and every key whose tokens are accepted
 * (the signing key plus `verificationKeyFiles`, for rotation). Each key's `kid` is its RFC 7638
 * JWK thumbprint, so every node sharing a key computes the same id.
 */

export interface TokenKey {
  readonly kid: string;
  readonly alg: TokenAlgorithm;
  readonly publicKey: KeyObject;
  /** The public JWK as published at the JWKS endpoint. */
  readonly jwk: JWK;
}

export interface SigningKey extends TokenKey {
  readonly privateKey: KeyObject;
}

export interface TokenKeys {
  readonly signing: SigningKey;
  /** Keys tokens may be verified with, by kid (the signing key included). */
  readonly verification: ReadonlyMap<string, TokenKey>;
  readonly jwks: { readonly keys: readonly JWK[] };
  /** Where the signing key came from: its file, or `config`. */
  readonly source: string;
  /** True when this start generated the signing key. */
  readonly generated: boolean;
  /** Things an operator should know (e.g. a key file others may read). */
  readonly warnings: readonly string[];
}

export interface LoadKeysOptions {
  readonly settings: TokenSettings;
  readonly dataDir: string;
  /** Relative key file paths resolve from here (the config file's directory). */
  readonly baseDir: string;
}

export const SIGNING_KEY_FILE = 'signing.pem';
export const PUBLIC_KEY_FILE = 'signing.pub.pem';

const generate = promisify(generateKeyPair);

function invalid(path: string, message: string, cause?: unknown): KernelError {
  return new KernelError('REG_ERR_CONFIG_INVALID', `${path}: ${message}`, cause === undefined ? {} : { cause });
}

/** The algorithm a key signs with, or `undefined` for a key type the token service cannot use. */
export function algorithmOf(key: KeyObject): TokenAlgorithm | undefined {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') return (details?.modulusLength ?? 0) >= 2048 ? 'RS256' : undefined;
  if (key.asymmetricKeyType === 'ec') return details?.namedCurve === 'prime256v1' ? 'ES256' : undefined;
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  return undefined;
}

async function describeKey(publicKey: KeyObject, where: string): Promise<TokenKey> {
  const alg = algorithmOf(publicKey);
  if (!alg) throw invalid(where, `unsupported key (${publicKey.asymmetricKeyType ?? 'unknown'}); use RSA >= 2048 bits, EC P-256 or Ed25519`);
  const raw = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(raw, 'sha256');
  return { kid, alg, publicKey, jwk: Object.freeze({ ...raw, kid, alg, use: 'sig' }) };
}

/** A fresh key pair for `alg`, as a PKCS#8 PEM private key. */
export async function generateSigningKeyPem(alg: TokenAlgorithm): Promise<string> {
  const pair =
    alg === 'RS256'
      ? await generate('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? await generate('ec', { namedCurve: 'P-256' })
        : await generate('ed25519');
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Creates `file` with `content` unless it exists, atomically: another node starting at the same
 * time on a shared directory either wins (we read its key) or loses (it reads ours).
 */
async function createExclusive(file: string, content: string, mode: number): Promise<boolean> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode, flag: 'wx' });
  try {
    await link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function readKeyFile(file: string, where: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw invalid(where, `cannot read ${file}: ${(err as Error).message}`, err);
  }
}

function parsePrivate(pem: string, where: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw invalid(where, `not a PEM private key (unencrypted PKCS#8, PKCS#1 or SEC1): ${(err as Error).message}`, err);
  }
}

/** Public keys in a PEM file: public keys, private keys (their public half) and certificates. */
export function publicKeysInPem(pem: string, where: string): KeyObject[] {
  const blocks = pem.match(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g) ?? [];
  if (blocks.length === 0) throw invalid(where, 'holds no PEM block');
  return blocks.map((block) => {
    try {
      if (block.startsWith('-----BEGIN CERTIFICATE-----')) return new X509Certificate(block).publicKey;
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(block)) return createPublicKey(createPrivateKey(block));
      return createPublicKey(block);
    } catch (err) {
      throw invalid(where, `cannot read a key: ${(err as Error).message}`, err);
    }
  });
}

async function loadSigning(options: LoadKeysOptions, warnings: string[]): Promise<{ pem: string; source: string; generated: boolean }> {
  const { settings, dataDir, baseDir } = options;
  if (settings.keys.signingKey !== undefined) return { pem: settings.keys.signingKey, source: 'config', generated: false };
  if (settings.keys.signingKeyFile !== undefined) {
    const file = path.resolve(baseDir, settings.keys.signingKeyFile);
    const pem = await readKeyFile(file, 'token.keys.signingKeyFile');
    const mode = (await stat(file)).mode & 0o077;
    if (mode !== 0) warnings.push(`signing key ${file} is readable by group or others (mode ${(mode | 0o600).toString(8)}); chmod 600 it`);
    return { pem, source: file, generated: false };
  }
  const dir = path.join(dataDir, 'token');
  const file = path.join(dir, SIGNING_KEY_FILE);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const existing = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw invalid('token.keys', `cannot read the generated signing key ${file}: ${err.message}`, err);
  });
  if (existing !== undefined) return { pem: existing, source: file, generated: false };
  // Losing the race to another node is fine: its key is read back below.
  const generated = await createExclusive(file, await generateSigningKeyPem(settings.algorithm), 0o600);
  return { pem: await readKeyFile(file, 'token.keys'), source: file, generated };
}

/** Writes the public half next to a generated key, for other verifiers (replaced atomically). */
async function writePublicKey(dir: string, publicKey: KeyObject): Promise<void> {
  const file = path.join(dir, PUBLIC_KEY_FILE);
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  if ((await readFile(file, 'utf8').catch(() => '')) === pem) return;
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, pem, { mode: 0o644 });
  await rename(tmp, file);
}

export async function loadTokenKeys(options: LoadKeysOptions): Promise<TokenKeys> {
  const { settings, baseDir } = options;
  const warnings: string[] = [];
  const signingSource = await loadSigning(options, warnings);
  const where = signingSource.source === 'config' ? 'token.keys.signingKey' : `token signing key ${signingSource.source}`;
  const privateKey = parsePrivate(signingSource.pem, where);
  const signing = await describeKey(createPublicKey(privateKey), where);
  if (signing.alg !== settings.algorithm) {
    throw invalid(
      'token.algorithm',
      `is ${settings.algorithm}, but ${where} is a ${signing.alg} key; set token.algorithm to ${signing.alg}, or move that key ` +
        'to token.keys.verificationKeyFiles (so tokens it signed stay valid) and give or generate a new signing key',
    );
  }
  if (signingSource.source !== 'config' && !settings.keys.signingKeyFile) await writePublicKey(path.dirname(signingSource.source), signing.publicKey);

  const verification = new Map<string, TokenKey>([[signing.kid, signing]]);
  for (const [i, name] of settings.keys.verificationKeyFiles.entries()) {
    const file = path.resolve(baseDir, name);
    const at = `token.keys.verificationKeyFiles[${i}]`;
    for (const key of publicKeysInPem(await readKeyFile(file, at), at)) {
      const described = await describeKey(key, `${at} (${file})`);
      if (!verification.has(described.kid)) verification.set(described.kid, described);
    }
  }
  return Object.freeze({
    signing: Object.freeze({ ...signing, privateKey }),
    verification,
    jwks: Object.freeze({ keys: Object.freeze([...verification.values()].map((k) => k.jwk)) }),
    source: signingSource.source,
    generated: signingSource.generated,
    warnings,
  });
}
