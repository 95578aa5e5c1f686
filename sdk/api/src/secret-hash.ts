// The default import is the module object, so tests can spy on timingSafeEqual.
import crypto from 'node:crypto';

/**
 * Secret hashes for passwords and robot secrets: scrypt from node:crypto, stored as `scrypt$N$r$p$salt$hash` with the salt and
 * hash in base64. Parameters travel with each hash, so they can be raised later without
 * invalidating stored passwords. Passwords are NFC-normalized, so the same text typed on
 * different systems hashes the same.
 * @since 0.1.0
 */

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelization. */
  readonly p: number;
}

/** N=2^15, r=8, p=1: about 32 MiB and tens of milliseconds per hash. */
export const DEFAULT_SCRYPT: ScryptParams = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });
/**
 * N=2^10, r=8, p=1: 1 MiB and about a millisecond per hash; see {@link useTestSecretHashCost}.
 * @since 0.1.0
 */
export const TEST_SCRYPT: ScryptParams = Object.freeze({ N: 2 ** 10, r: 8, p: 1 });
let newHashParams: ScryptParams = DEFAULT_SCRYPT;
const SALT_BYTES = 16;
const KEY_BYTES = 64;

// Bounds for parameters read back from the database: a tampered row must not cost gigabytes.
const MAX_LOG2_N = 20;
const MAX_R = 32;
const MAX_P = 16;

/** A stored hash that cannot be parsed (corrupt row, or not made by this module). */
export class MalformedHashError extends Error {
  constructor() {
    super('malformed secret hash');
    this.name = 'MalformedHashError';
  }
}

interface ParsedHash extends ScryptParams {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function derive(password: string, salt: Buffer, keyLength: number, params: ScryptParams): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; node refuses anything above maxmem (32 MiB by default).
  const maxmem = 2 * 128 * params.N * params.r;
  return new Promise((resolve, reject) => {
    crypto.scrypt(password.normalize('NFC'), salt, keyLength, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

/** Hashes a secret with a fresh random salt, with {@link DEFAULT_SCRYPT} unless `params` says otherwise. */
export async function hashSecret(password: string, params: ScryptParams = newHashParams): Promise<string> {
  const salt = crypto.randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, KEY_BYTES, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const INT = /^[1-9][0-9]{0,9}$/;

function parseHash(encoded: string): ParsedHash {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw new MalformedHashError();
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  if (!INT.test(n) || !INT.test(r) || !INT.test(p) || !BASE64.test(salt) || !BASE64.test(hash)) throw new MalformedHashError();
  const parsed = { N: Number(n), r: Number(r), p: Number(p), salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
  const powerOfTwo = (parsed.N & (parsed.N - 1)) === 0;
  if (!powerOfTwo || parsed.N < 2 || parsed.N > 2 ** MAX_LOG2_N || parsed.r > MAX_R || parsed.p > MAX_P) throw new MalformedHashError();
  if (parsed.salt.length < 8 || parsed.hash.length < 16 || parsed.hash.length > 128) throw new MalformedHashError();
  return parsed;
}

/** True when `encoded` has the stored-hash format (parameters within bounds). */
export function isSecretHash(encoded: string): boolean {
  try {
    parseHash(encoded);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a secret against a stored hash, comparing in constant time.
 * @throws MalformedHashError when the stored hash cannot be parsed.
 */
export async function verifySecret(password: string, encoded: string): Promise<boolean> {
  const stored = parseHash(encoded);
  const candidate = await derive(password, stored.salt, stored.hash.length, stored);
  return crypto.timingSafeEqual(candidate, stored.hash);
}

let dummy: Promise<string> | undefined;

/**
 * Spends the time of one verification without a user, so "no such user" answers as slowly as
 * "wrong password" and response times do not tell which user (or robot) names exist.
 */
export async function verifyNothing(password: string): Promise<void> {
  dummy ??= hashSecret(crypto.randomBytes(16).toString('base64'));
  await verifySecret(password, await dummy);
}

/**
 * Makes hashes made from now on in this process use {@link TEST_SCRYPT} instead of
 * {@link DEFAULT_SCRYPT}, so tests that create users and log in hundreds of times do not spend
 * most of their CPU in scrypt. Stored hashes carry their parameters, so verification is the same
 * code either way. Only `@wharf/sdk-testing` calls this, when it is loaded; no configuration
 * reaches it, so a deployment cannot select the test cost.
 * @since 0.1.0
 */
export function useTestSecretHashCost(): void {
  newHashParams = TEST_SCRYPT;
  dummy = undefined;
}
