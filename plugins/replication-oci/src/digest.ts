import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { parseDigest, type Digest } from '@wharf/sdk';

/** The digest of `bytes` under the algorithm of `like` (sha256 by default). */
export function digestOf(bytes: Buffer, like?: string): Digest {
  const parsed = like === undefined ? undefined : parseDigest(like);
  const algorithm = parsed?.ok ? parsed.algorithm : 'sha256';
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}` as Digest;
}

/** Throws a TypeError for a string that is not a digest Wharf can verify. */
export function checkDigest(value: string): Digest {
  const parsed = parseDigest(value);
  if (!parsed.ok) throw new TypeError(`"${value.slice(0, 150)}" is not a sha256 or sha512 digest (${parsed.reason})`);
  return parsed.digest;
}

/**
 * Passes bytes through, hashing and counting them; fails the stream at its end when the size
 * or the digest is not the expected one, so a consumer never takes corrupt content as whole.
 * With `hash` false only the size is checked (the consumer verifies the digest on its own pass).
 */
export class VerifyingStream extends Transform {
  readonly #hash: Hash | undefined;
  readonly #algorithm: string;
  readonly #expected: Digest;
  readonly #size: number;
  readonly #describe: (what: string) => Error;
  #seen = 0;

  constructor(expected: Digest, size: number, describe: (what: string) => Error, hash = true) {
    super();
    const parsed = parseDigest(expected);
    this.#algorithm = parsed.ok ? parsed.algorithm : 'sha256';
    this.#hash = hash ? createHash(this.#algorithm) : undefined;
    this.#expected = expected;
    this.#size = size;
    this.#describe = describe;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.#size) {
      done(this.#describe(`received more than the ${this.#size} bytes announced`));
      return;
    }
    this.#hash?.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.#seen !== this.#size) {
      done(this.#describe(`received ${this.#seen} bytes, ${this.#size} announced`));
      return;
    }
    if (!this.#hash) return done();
    const actual = `${this.#algorithm}:${this.#hash.digest('hex')}`;
    done(actual === this.#expected ? null : this.#describe(`content has digest ${actual}, not ${this.#expected}`));
  }
}
