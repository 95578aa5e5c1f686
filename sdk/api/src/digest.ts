/**
 * Content digests as the OCI image spec defines them: `algorithm:encoded`.
 * Wharf accepts the registered algorithms sha256 and sha512.
 * @since 0.1.0
 */

/** A validated digest string such as `sha256:e3b0…`. */
export type Digest = string & { readonly __digest?: never };

/** Digest algorithms Wharf can verify, with the hex length of their encoded part. */
export const DIGEST_ALGORITHMS = Object.freeze({ sha256: 64, sha512: 128 } as const);
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

const GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** The parts of a digest, or the reason it is not one Wharf accepts. */
export type ParsedDigest =
  | { ok: true; algorithm: DigestAlgorithm; hex: string; digest: Digest }
  | { ok: false; reason: 'syntax' | 'unsupported-algorithm' | 'bad-length' };

/** Parses a digest: syntax per the image spec, then a known algorithm with lowercase hex of the right length. */
export function parseDigest(value: string): ParsedDigest {
  if (value.length > 256 || !GRAMMAR.test(value)) return { ok: false, reason: 'syntax' };
  const sep = value.indexOf(':');
  const algorithm = value.slice(0, sep);
  const hex = value.slice(sep + 1);
  if (!(algorithm in DIGEST_ALGORITHMS)) return { ok: false, reason: 'unsupported-algorithm' };
  const alg = algorithm as DigestAlgorithm;
  if (hex.length !== DIGEST_ALGORITHMS[alg] || !/^[a-f0-9]+$/.test(hex)) return { ok: false, reason: 'bad-length' };
  return { ok: true, algorithm: alg, hex, digest: value as Digest };
}

/** True when `value` is a digest Wharf can store and verify. */
export function isDigest(value: string): value is Digest {
  return parseDigest(value).ok;
}
