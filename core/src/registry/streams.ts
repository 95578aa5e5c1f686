import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Hash } from 'node:crypto';
import { RegistryError } from '@wharf/sdk';

/**
 * Passes bytes through while hashing and counting them, and fails the stream when more than
 * `limit` bytes arrive (a client that lies about Content-Length or Content-Range).
 */
export class MeteredStream extends Transform {
  bytes = 0;

  constructor(
    private readonly hash: Hash | undefined,
    private readonly limit = Number.POSITIVE_INFINITY,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      callback(new RegistryError('SIZE_INVALID', 'body is longer than announced', { status: 400 }));
      return;
    }
    this.hash?.update(chunk);
    callback(null, chunk);
  }
}

/** How much more than the limit is read and thrown away so the client still gets its answer. */
export const DRAIN_FACTOR = 4;

/**
 * Reads a stream fully into a Buffer, refusing more than `limit` bytes (manifests only). Past
 * the limit the rest is read and discarded (up to {@link DRAIN_FACTOR} times the limit), so a
 * chunked body without Content-Length gets its 413 instead of a dropped connection; a sender
 * that goes on beyond that is cut off.
 */
export async function readLimited(stream: Readable, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > limit * DRAIN_FACTOR) {
      stream.destroy();
      throw tooLarge();
    }
    if (total <= limit) chunks.push(buf);
  }
  if (total > limit) throw tooLarge();
  return Buffer.concat(chunks, total);
}

/** Hashes a whole stream with the given algorithm, returning `algorithm:hex`. */
export async function digestStream(stream: Readable, algorithm: 'sha256' | 'sha512'): Promise<string> {
  const { createHash } = await import('node:crypto');
  const hash = createHash(algorithm);
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return `${algorithm}:${hash.digest('hex')}`;
}
